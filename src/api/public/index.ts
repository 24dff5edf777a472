import { createRouter } from '../app';
import { billingRoutes } from './billing.routes';
import { filesRoutes } from './files.routes';
import { generationsRoutes } from './generations.routes';
import { modelsRoutes } from './models.routes';
import { taskControlRoutes } from './task-control.routes';
import { tasksRoutes } from './tasks.routes';
import { webhooksRoutes } from './webhooks.routes';

/**
 * The customer API, mounted at `/api/v1`. Each route says whether it needs an API key: the
 * catalog and result files are public.
 */
export const publicApi = createRouter()
  .route('/', generationsRoutes)
  .route('/', tasksRoutes)
  .route('/', taskControlRoutes)
  .route('/', filesRoutes)
  .route('/', billingRoutes)
  .route('/', modelsRoutes)
  .route('/', webhooksRoutes);
