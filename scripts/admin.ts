// Operator commands: npm run admin -- <command> [--options]. Run `npm run admin -- help`.
import { parseArgs } from 'node:util';
import type { Tier } from '../src/generated/prisma/enums.js';
import { loadConfig } from '../src/lib/config.js';
import { createLogger } from '../src/lib/logger.js';
import { tierOrder } from '../src/modules/identity/tiers.js';
import { createServices, type Services } from '../src/services.js';

const usage = `Usage: npm run admin -- <command> [options]

  create-user  --email E [--name N] [--tier FREE|BASIC|PRO|ENTERPRISE] [--operator]
  set-tier     --email E --tier T
  operator     --email E [--off]
  grant-credits --email E --amount N        (1 credit = 1 micro-USD of provider cost)
  create-team  --owner E --name N
  add-member   --team TEAM_ID --email E
  create-key   --email E --name N [--scopes read,write,chat] [--external] [--expires-days D]
  show-user    --email E

Uses DATABASE_URL, or the embedded database under DATA_DIR (stop the server first).`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    email: { type: 'string' },
    name: { type: 'string' },
    tier: { type: 'string' },
    operator: { type: 'boolean' },
    off: { type: 'boolean' },
    amount: { type: 'string' },
    owner: { type: 'string' },
    team: { type: 'string' },
    scopes: { type: 'string' },
    external: { type: 'boolean' },
    'expires-days': { type: 'string' },
  },
});

function required(name: keyof typeof values): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new Error(`--${name} is required\n\n${usage}`);
  return value;
}

function tier(): Tier {
  const value = required('tier').toUpperCase();
  if (!(tierOrder as string[]).includes(value)) throw new Error(`--tier must be one of ${tierOrder.join(', ')}`);
  return value as Tier;
}

const commands: Record<string, (services: Services) => Promise<unknown>> = {
  'create-user': ({ admin }) =>
    admin.createUser({ email: required('email'), name: values.name, tier: values.tier ? tier() : 'FREE', isOperator: values.operator }),
  'set-tier': async ({ admin }) => admin.setTier((await admin.userByEmail(required('email'))).id, tier()),
  operator: async ({ admin }) => admin.setOperator((await admin.userByEmail(required('email'))).id, !values.off),
  'grant-credits': async ({ admin, credits }) => {
    const user = await admin.userByEmail(required('email'));
    const amount = Number.parseInt(required('amount'), 10);
    if (!Number.isSafeInteger(amount) || amount <= 0) throw new Error('--amount must be a positive whole number');
    await admin.grantCredits(user.id, amount);
    return { email: user.email, credits: await credits.balance(user.id) };
  },
  'create-team': async ({ admin }) => admin.createTeam((await admin.userByEmail(required('owner'))).id, required('name')),
  'add-member': async ({ admin }) => admin.addTeamMember(required('team'), (await admin.userByEmail(required('email'))).id),
  'create-key': async ({ admin }) => {
    const days = values['expires-days'] ? Number.parseInt(values['expires-days'], 10) : undefined;
    const key = await admin.createApiKey((await admin.userByEmail(required('email'))).id, {
      name: required('name'),
      scopes: values.scopes?.split(',').map((scope) => scope.trim()),
      allowExternalUsage: values.external ?? false,
      expiresAt: days ? new Date(Date.now() + days * 86_400_000) : null,
    });
    return { ...key, note: 'The secret is shown only now; store it safely.' };
  },
  'show-user': async ({ admin, db }) => {
    const user = await admin.userByEmail(required('email'));
    const teams = await db.prisma.team.findMany({ where: { members: { some: { userId: user.id } } }, select: { id: true, name: true, ownerId: true } });
    const keys = await db.prisma.apiKey.findMany({
      where: { ownerId: user.id },
      select: { id: true, name: true, scopes: true, allowExternalUsage: true, revokedAt: true, expiresAt: true, lastUsedAt: true },
    });
    return { ...user, teams, keys };
  },
};

const command = positionals[0];
if (!command || command === 'help' || !commands[command]) {
  console.log(usage);
  process.exit(command && command !== 'help' ? 1 : 0);
}

const config = loadConfig(process.env, { logLevel: process.env.LOG_LEVEL ?? 'warn' });
const services = await createServices(config, createLogger(config.logLevel));
try {
  console.log(JSON.stringify(await commands[command]!(services), null, 2));
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
} finally {
  await services.close();
}
