import { createRouter } from '../app';
import { ApiError } from '../../errors';
import { TASK_ID_PATTERN } from '../../ids';
import { CALLBACK_TOKEN_LENGTH, offersCallbacks } from '../../tasks/job-watch';
import { taskStub } from '../../tasks/task.do';

const TOKEN_PATTERN = new RegExp(`^[0-9A-Za-z]{${CALLBACK_TOKEN_LENGTH}}$`);

/**
 * Where providers call back when a job ends, mounted at `/callbacks/v1` (src/tasks/job-watch.ts
 * builds the URLs): `POST /callbacks/v1/{provider}/{task_id}/{token}`, the token being a capability
 * minted for that one job, of which the task keeps only the SHA-256.
 *
 * A callback is a hint, never the truth: its body is not read (so it needs no signature check, and
 * a lying one cannot move the task), and a valid token only makes the task's next poll due now; the
 * poll reads the job from the provider as the schedule would have. So a forged callback (wrong token,
 * another task's token) is a 404 that touches nothing, and a replay is a 200 that changes nothing. The
 * answer is quick (one call to the task's object, which sets its alarm): providers wait for it.
 *
 * Not in `/openapi.json`: the route is for providers, not customers, and its only contract is the
 * URL the Worker handed out.
 */
export const callbacksApi = createRouter().post('/:provider/:task_id/:token', async (c) => {
  const { provider, task_id, token } = c.req.param();
  const wellFormed = offersCallbacks(provider) && TASK_ID_PATTERN.test(task_id) && TOKEN_PATTERN.test(token);
  // Nothing but a URL we minted can name a task: anything else is refused before any storage is touched.
  if (!wellFormed || !(await taskStub(c.env, task_id).providerCallback(token))) {
    throw new ApiError('not_found', 'No such callback.');
  }
  return c.json({ received: true }, 200);
});
