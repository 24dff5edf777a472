import { createRouter, installErrorHandling, requestId } from './api/app';
import { limitAnonymous, requireInternalToken } from './api/auth/middleware';
import { callbacksApi } from './api/callbacks/callbacks.routes';
import { healthRoutes } from './api/health.routes';
import { internalApi } from './api/internal';
import { openaiApi } from './api/openai';
import { servedDocument, taskFinishedWebhook } from './api/openapi-documents';
import { publicApi } from './api/public';
import { documentRateLimits } from './api/rate-limit';
import { logRequests } from './api/request-log';
import { docsRoutes } from './docs/docs.routes';

export { AccountDO } from './accounts/account.do';
export { TaskDO } from './tasks/task.do';
export { NodeHealthDO } from './health/node-health.do';
export { CapacityDO } from './capacity/capacity.do';

const app = createRouter();
app.use('*', requestId);
app.use('*', logRequests);
app.use('*', limitAnonymous);

app.route('/api/v1', publicApi);
app.route('/internal/v1', internalApi);
app.route('/v1', openaiApi);
app.route('/docs', docsRoutes);
app.route('/', healthRoutes);
app.route('/callbacks/v1', callbacksApi);

app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
  type: 'http',
  scheme: 'bearer',
  description: 'A customer API key, `aio_…`.',
});
app.openAPIRegistry.registerComponent('securitySchemes', 'internalToken', {
  type: 'http',
  scheme: 'bearer',
  description: 'The BFF token `INTERNAL_API_TOKEN`.',
});
documentRateLimits(app.openAPIRegistry);
app.openAPIRegistry.registerWebhook(taskFinishedWebhook);
// The two documents: the customer API for anyone, the BFF's internal API behind its token.
app.get('/openapi.json', (c) => c.json(servedDocument(app, 'public', c)));
app.get('/internal/openapi.json', requireInternalToken, (c) => c.json(servedDocument(app, 'internal', c)));

installErrorHandling(app);

export default app;
