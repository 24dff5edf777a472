import { createRouter } from '../app';
import { editsRoutes } from './edits.routes';
import { generationsRoutes } from './generations.routes';

/**
 * OpenAI's Images API, mounted at `/v1` so the official OpenAI SDKs work with `baseURL = <worker>/v1`
 * and a customer's `aio_` key: every catalog model, behind ordinary tasks.
 */
export const openaiApi = createRouter().route('/', generationsRoutes).route('/', editsRoutes);
