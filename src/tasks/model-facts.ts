import { findModel } from '../catalog';
import type { ModelFacts } from './task-record';
import type { TaskRequest } from './task.schema';

/** What a task needs to know of its model: how many images its price covers, and how many nodes can serve it. */
export function modelFacts(modelId: string, request: TaskRequest): ModelFacts {
  const model = findModel(modelId);
  const count = model?.count_field ? Number(request[model.count_field] ?? 1) : 1;
  return { images_requested: Math.max(1, count), node_count: model?.nodes.length ?? 0 };
}
