// A real OpenID Connect provider for the tests: `oidc-provider` (certified)
// on a free loopback port, with its built-in login form (devInteractions:
// any password is accepted; the login name is the account).
//
// Settings come from the environment:
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI  the DataCustodian
//   OIDC_ACCOUNTS   JSON: {"login": {"account_number": "…", "email": "…"}}
// Prints `ISSUER http://127.0.0.1:PORT` once it listens.

import http from 'node:http';

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`provider.mjs: ${name} is not set`);
    process.exit(2);
  }
  return v;
};

// stdout carries only the ISSUER line (the test stops reading it after
// that); the provider's development-mode notices are not for the test log.
console.log = console.info = console.warn = () => {};
// Imported after that: its notices are printed as it loads.
const { default: Provider } = await import('oidc-provider');

const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || '{}');
const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: env('OIDC_CLIENT_ID'),
      client_secret: env('OIDC_CLIENT_SECRET'),
      redirect_uris: [env('OIDC_REDIRECT_URI')],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    claims: {
      openid: ['sub'],
      account: ['account_number'],
      email: ['email', 'email_verified'],
    },
    // The scope's claims go in the ID token itself (no userinfo call).
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    cookies: { keys: ['test-only-cookie-key'] },
    features: { devInteractions: { enabled: true } },
    async findAccount(ctx, id) {
      const claims = accounts[id];
      if (!claims) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
    },
    // A first-party client: no consent screen after the login.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid account email');
      await grant.save();
      return grant;
    },
  });
  server.on('request', provider.callback());
  process.stdout.write(`ISSUER ${issuer}\n`);
});

process.on('SIGTERM', () => process.exit(0));
