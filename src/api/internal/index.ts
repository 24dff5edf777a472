import { createRouter } from '../app';
import { requireInternalToken } from '../auth/middleware';
import { accountsRoutes } from './accounts.routes';
import { limitsRoutes } from './limits.routes';
import { webhookSecretRoutes } from './webhook-secret.routes';

/** The BFF's API, mounted at `/internal/v1`: every route takes the internal token, checked here once. */
export const internalApi = createRouter();
internalApi.use('*', requireInternalToken);
internalApi.route('/', accountsRoutes).route('/', webhookSecretRoutes).route('/', limitsRoutes);
