import type { Command } from 'commander';
import { userInfo } from 'node:os';
import { systemClock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/connection.ts';
import { createAudit } from '../office/audit.ts';
import { createStaffStore, StaffError, type Role } from '../office/staff.ts';

/** Commands run on the server are audited under the name of the system user who ran them. */
export const cliActor = () => ({ staffId: null, name: userInfo().username });

/** The whole of standard input (a password piped in by a script), without its final newline. */
async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.replace(/\r?\n$/, '');
}

/** Asks twice on the terminal without echoing what is typed. */
async function promptPassword(): Promise<string> {
  const ask = (label: string) =>
    new Promise<string>((resolve, reject) => {
      process.stdout.write(label);
      const stdin = process.stdin;
      stdin.setRawMode(true);
      stdin.resume();
      let typed = '';
      const onData = (buf: Buffer) => {
        for (const ch of buf.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            stdin.setRawMode(false);
            stdin.pause();
            stdin.off('data', onData);
            process.stdout.write('\n');
            return resolve(typed);
          }
          if (ch === '\u0003') {
            stdin.setRawMode(false);
            return reject(new StaffError('cancelled'));
          }
          typed = ch === '\u007f' ? typed.slice(0, -1) : typed + ch;
        }
      };
      stdin.on('data', onData);
    });
  const first = await ask('Password (12 characters or more, not a common one, without the email): ');
  if ((await ask('Again: ')) !== first) throw new StaffError('password: the two entries differ');
  return first;
}

export function registerStaff(program: Command, deps: { config: () => Config; openDb: (c: Config) => Db }): void {
  const staff = program.command('staff').description('office console accounts (officers and managers)');
  const run = async (fn: (store: ReturnType<typeof createStaffStore>) => Promise<void> | void) => {
    const db = deps.openDb(deps.config());
    try {
      await fn(createStaffStore(db, systemClock, createAudit(db)));
    } catch (err) {
      if (!(err instanceof StaffError)) throw err;
      console.error(err.message);
      process.exitCode = 2;
    } finally {
      db.close();
    }
  };

  staff
    .command('add')
    .description('create an account; the password is read from standard input when it is not a terminal, asked otherwise')
    .requiredOption('--email <email>', 'login email')
    .requiredOption('--name <name>', 'name shown in the console and the audit log')
    .requiredOption('--role <role>', 'officer (members, wallets, support, call-backs) or manager (all, with campaigns, reconciliation, staff, figures)')
    .action(async (o: { email: string; name: string; role: string }) => {
      if (o.role !== 'officer' && o.role !== 'manager') {
        console.error(`--role: "${o.role}" is neither officer nor manager`);
        process.exitCode = 2;
        return;
      }
      const password = process.stdin.isTTY ? await promptPassword() : await readStdin();
      await run(async (store) => {
        const s = await store.add({ email: o.email, name: o.name, role: o.role as Role, password }, cliActor());
        console.log(`${s.role} ${s.email} created: log in at /admin`);
      });
    });

  staff
    .command('password')
    .description('set an account\'s new password and end its sessions; read from standard input when it is not a terminal, asked otherwise (never an argument)')
    .requiredOption('--email <email>', 'the account')
    .action(async (o: { email: string }) => {
      const password = process.stdin.isTTY ? await promptPassword() : await readStdin();
      await run(async (store) => {
        const s = await store.setPassword(o.email, password, cliActor());
        console.log(`${s.email}: password changed, sessions ended`);
      });
    });

  staff
    .command('list')
    .description('every account, with its role and whether it is active')
    .action(() =>
      run((store) => {
        for (const s of store.list()) console.log(`${s.email}\t${s.name}\t${s.role}\t${s.active ? 'active' : 'disabled'}`);
      }),
    );

  staff
    .command('disable')
    .description('disable an account and end its sessions')
    .argument('<email>')
    .action((email: string) =>
      run((store) => {
        const s = store.disable(email, cliActor());
        console.log(`${s.email} disabled`);
      }),
    );
}
