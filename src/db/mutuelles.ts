import type { Db } from './connection.ts';

export interface Mutuelle {
  id: string;
  name: string;
  district: string;
  targetPopulation: number;
  productId: string;
}

/** The network of mutuelles, by district, as UTM supports it. */
export function createMutuelleStore(db: Db) {
  const districts = db.prepare('SELECT DISTINCT district FROM mutuelles ORDER BY district').pluck();
  const inDistrict = db.prepare(
    `SELECT id, name, district, target_population AS targetPopulation, product_id AS productId
     FROM mutuelles WHERE district = ? ORDER BY name`,
  );
  return {
    districts(): string[] {
      return districts.all() as string[];
    },
    inDistrict(district: string): Mutuelle[] {
      return inDistrict.all(district) as Mutuelle[];
    },
  };
}

export type MutuelleStore = ReturnType<typeof createMutuelleStore>;
