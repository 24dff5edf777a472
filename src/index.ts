import { createRouter, installErrorHandling, requestId } from './api/app';
import { internalApi } from './api/internal';
import { publicApi } from './api/public';

export { AccountDO } from './accounts/account.do';
export { TaskDO } from './tasks/task.do';

const app = createRouter();
app.use('*', requestId);

app.route('/api/v1', publicApi);
app.route('/internal/v1', internalApi);

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
app.doc31('/openapi.json', {
  openapi: '3.1.0',
  info: { title: 'Image generation API (Worker tier)', version: '1.0.0' },
});

installErrorHandling(app);

export default app;
