#!/usr/bin/env node
// The command tree is plain JavaScript (src/cli/program.js); a command's TypeScript code is loaded
// through tsx only once it runs, so `sabatili --help` starts fast and there is no build step to forget.
import { existsSync } from 'node:fs';
import { run } from '../src/cli/program.js';

if (existsSync('.env')) process.loadEnvFile('.env');
process.exitCode = await run(process.argv.slice(2), {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  typescript: async () => (await import('tsx/esm/api')).register(),
});
