import { requireActor } from '../../context.js';
import { builder } from '../../graphql/builder.js';

builder.mutationField('setEncryptionSecret', (t) =>
  t.boolean({
    description:
      'Sets your encryption secret for encrypted models (first call), or checks it (later calls: FORBIDDEN, reason WRONG_SECRET, when it differs). Team owners set one before members can write team-encrypted conversations. The secret itself is never stored.',
    authScopes: { writer: true },
    args: { secret: t.arg.string({ required: true }) },
    resolve: async (_root, args, context) => {
      await context.services.encryption.unlock(requireActor(context).userId, args.secret);
      return true;
    },
  }),
);
