import { createRouter, installErrorHandling, jsonBody, requestId } from './http/app';
import { billingRoutes } from './routes/billing.routes';
import { filesRoutes } from './routes/files.routes';
import { generationsRoutes } from './routes/generations.routes';
import { internalRoutes } from './routes/internal.routes';
import { modelsRoutes } from './routes/models.routes';
import { tasksRoutes } from './routes/tasks.routes';
import { webhooksRoutes } from './routes/webhooks.routes';

export { AccountDO } from './billing/account.do';
export { TaskDO } from './tasks/task.do';

const app = createRouter();
app.use('*', requestId);
app.use('*', jsonBody);

app.route('/', generationsRoutes);
app.route('/', tasksRoutes);
app.route('/', filesRoutes);
app.route('/', billingRoutes);
app.route('/', modelsRoutes);
app.route('/', internalRoutes);
app.route('/', webhooksRoutes);

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
