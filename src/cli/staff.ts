import { Refusal } from '../domain/refusal.ts';
import { PasswordError, type Role } from '../office/staff.ts';
import { type Cli, cliActor } from './context.ts';

/** The whole of standard input (a password piped in by a script), without its final newline. */
async function readStdin(cli: Cli): Promise<string> {
  let text = '';
  for await (const chunk of cli.io.stdin) text += String(chunk);
  return text.replace(/\r?\n$/, '');
}

/** Asks twice on the terminal without echoing what is typed. */
async function promptPassword(cli: Cli): Promise<string> {
  const stdin = cli.io.stdin;
  const ask = (label: string) =>
    new Promise<string>((resolve, reject) => {
      cli.stdout.write(label);
      stdin.setRawMode?.(true);
      stdin.resume();
      let typed = '';
      const onData = (buf: Buffer) => {
        for (const ch of buf.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            stdin.setRawMode?.(false);
            stdin.pause();
            stdin.off('data', onData);
            cli.stdout.write('\n');
            return resolve(typed);
          }
          if (ch === '\u0003') {
            stdin.setRawMode?.(false);
            return reject(new Refusal('cancelled'));
          }
          typed = ch === '\u007f' ? typed.slice(0, -1) : typed + ch;
        }
      };
      stdin.on('data', onData);
    });
  const first = await ask('Password (12 characters or more, not a common one, without the email): ');
  if ((await ask('Again: ')) !== first) throw new PasswordError('mismatch');
  return first;
}

/** Read from standard input when it is not a terminal (never an argument: argv shows in `ps`), asked otherwise. */
const password = (cli: Cli) => (cli.io.stdin.isTTY ? promptPassword(cli) : readStdin(cli));

/** `sabatili staff add`. */
export async function add(cli: Cli, o: { email: string; name: string; role: string }): Promise<number> {
  if (o.role !== 'officer' && o.role !== 'manager') {
    cli.warn(`--role: "${o.role}" is neither officer nor manager`);
    return 2;
  }
  const typed = await password(cli);
  const s = await (await cli.services()).office.staff.add(
    { email: o.email, name: o.name, role: o.role as Role, password: typed },
    cliActor(),
  );
  cli.print(`${s.role} ${s.email} created: log in at /admin`);
  return 0;
}

/** `sabatili staff password`: the new password, and the account's sessions ended. */
export async function setPassword(cli: Cli, o: { email: string }): Promise<void> {
  const typed = await password(cli);
  const s = await (await cli.services()).office.staff.setPassword(o.email, typed, cliActor());
  cli.print(`${s.email}: password changed, sessions ended`);
}

/** `sabatili staff list`. */
export async function list(cli: Cli): Promise<void> {
  for (const s of (await cli.services()).office.staff.list())
    cli.print(`${s.email}\t${s.name}\t${s.role}\t${s.active ? 'active' : 'disabled'}`);
}

/** `sabatili staff disable EMAIL`. */
export async function disable(cli: Cli, email: string): Promise<void> {
  const s = (await cli.services()).office.staff.disable(email, cliActor());
  cli.print(`${s.email} disabled`);
}
