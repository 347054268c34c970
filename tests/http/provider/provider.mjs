// A real authorization server for tests/http/test_provider.py: oidc-provider (a certified OpenID
// provider) on 127.0.0.1, issuing JWT access tokens for one resource (RFC 8707 resource indicators),
// with dynamic client registration, PKCE, client credentials and its development login pages.
//
//   node provider.mjs PORT RESOURCE SCOPE
//
// Prints "ready" on stdout once it listens. Any login and password sign in; the login is the `sub`.
import { generateKeyPairSync } from 'node:crypto';

import Provider, { errors } from 'oidc-provider';

const [port, resource, scope] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'provider-rsa', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  jwks: { keys: [signingKey] },
  cookies: { keys: ['tests-only-cookie-key'] },
  scopes: ['openid', 'offline_access', scope],
  features: {
    devInteractions: { enabled: true },
    registration: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== resource) throw new errors.InvalidTarget();
        return {
          scope,
          audience: resource,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  // The signed-in person's address in their access tokens, as Entra ID and Okta can add it.
  extraTokenClaims: (_ctx, token) => (token.accountId ? { email: `${token.accountId}@example.test` } : undefined),
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
});

provider.listen(Number(port), '127.0.0.1', () => console.log('ready'));
