// A real OpenID Connect provider for the sign-in tests: the certified
// `oidc-provider` package, on 127.0.0.1, with its development login pages
// (any login name, any password; the account is the login name).
//
//   node oidc-provider.mjs --port P --redirect URI [--keys FILE] [--rotate]
//
// --keys FILE keeps the signing keys across restarts (made when absent);
// --rotate adds a new key in front, which then signs new tokens while the
// old one stays published. Prints `ready <issuer>` once listening.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const port = Number(option('--port'));
const redirect = option('--redirect');
const keysFile = option('--keys');
const rotate = args.includes('--rotate');
if (!port || !redirect) {
  console.error('usage: oidc-provider.mjs --port P --redirect URI [--keys FILE] [--rotate]');
  process.exit(2);
}

const newKey = () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  jwk.kid = `key-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  jwk.use = 'sig';
  jwk.alg = 'RS256';
  return jwk;
};
let keys = keysFile && existsSync(keysFile) ? JSON.parse(readFileSync(keysFile, 'utf8')) : [];
if (keys.length === 0 || rotate) keys = [newKey(), ...keys];
if (keysFile) writeFileSync(keysFile, JSON.stringify(keys));

const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'portal',
      client_secret: 'portal-test-secret',
      redirect_uris: [redirect],
      response_types: ['code'],
      grant_types: ['authorization_code'],
    },
  ],
  jwks: { keys },
  cookies: { keys: ['portal-tests-cookie-key'] },
  pkce: { required: () => true },
  // Claims of the asked scopes go into the ID token, as most providers do.
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username', 'groups'],
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: `${id}@acme.example`,
          email_verified: true,
          name: id,
          preferred_username: id,
          groups: [`${id}-team`],
        };
      },
    };
  },
});
provider.on('server_error', (ctx, error) => console.error('server_error', ctx.method, ctx.path, error));
provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
