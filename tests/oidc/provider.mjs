// A real OpenID provider for the SSO tests: the certified `oidc-provider` package on 127.0.0.1.
//
// Usage: node tests/oidc/provider.mjs CONFIG.json
// CONFIG: {"port": 0|N, "clients": [...oidc-provider client metadata], "accountsFile": "accounts.json"}
// Accounts are re-read from accountsFile on every sign-in, so a test can change someone's roles
// between two logins: {"<login>": {"email", "email_verified", "name", "roles": [], "amr": [], "acr"}}.
// The login form accepts any listed login with the password "correct horse".
// Prints "listening <issuer>" once it accepts connections.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const PASSWORD = 'correct horse';
const accounts = () => JSON.parse(readFileSync(config.accountsFile, 'utf8'));
const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-signing-key', use: 'sig', alg: 'RS256' };

const server = createServer();
await new Promise((resolve) => server.listen(config.port || 0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: { keys: [signingKey] },
  cookies: { keys: ['moodlens-test-cookie-key'] },
  async findAccount(ctx, id) {
    const account = accounts()[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id, email: account.email, email_verified: account.email_verified ?? true,
          name: account.name, roles: account.roles ?? [],
        };
      },
    };
  },
  // amr and acr ride with the openid scope so that every ID token says how the user signed in.
  claims: {
    acr: null, amr: null, auth_time: null, sid: null, iss: null,
    openid: ['sub', 'acr', 'amr', 'auth_time'], email: ['email', 'email_verified'], profile: ['name', 'roles'],
  },
  conformIdTokenClaims: false, // scope claims (e-mail, roles) in the ID token, as Keycloak and Azure AD do
  acrValues: ['urn:moodlens:test:pwd', 'urn:moodlens:test:mfa'],
  features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
  pkce: { required: () => true },
  ttl: {
    AccessToken: 600, AuthorizationCode: 60, Grant: 3600, Interaction: 600, Session: 3600,
    IdToken: (ctx, token, client) => (client.clientId === 'short-lived' ? 1 : 600),
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // No consent screen: the hospital's own applications are pre-approved.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
});

const loginPage = (uid, error = '') => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Test Hospital sign-in</title></head><body><main><h1>Test Hospital</h1>
${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label for="login">User name</label> <input id="login" name="login" autofocus>
<label for="password">Password</label> <input id="password" name="password" type="password">
<button type="submit">Sign in</button></form></main></body></html>`;

const readForm = async (req) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  return Object.fromEntries(new URLSearchParams(body));
};

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === 'POST' && match[2]) {
    const form = await readForm(ctx.req);
    const account = accounts()[form.login];
    if (!account || form.password !== PASSWORD) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = loginPage(details.uid, 'Unknown user name or wrong password.');
      return undefined;
    }
    const login = { accountId: form.login, amr: account.amr, acr: account.acr };
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, { login }, { mergeWithLastSubmission: false }));
    return undefined;
  }
  if (details.prompt.name === 'consent') {
    // Pre-approved, as above; native (loopback) clients are asked every time, so answer here too.
    const grant = details.grantId ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    grant.addOIDCScope('openid email profile');
    const consent = { grantId: await grant.save() };
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, { consent }, { mergeWithLastSubmission: true }));
    return undefined;
  }
  ctx.type = 'html';
  ctx.body = loginPage(details.uid);
  return undefined;
});

server.on('request', provider.callback());
console.log(`listening ${issuer}`);
