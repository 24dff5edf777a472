import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../app';
import { ApiError } from '../../errors';
import { errorResponses } from '../openapi';
import { FileIdParam, malformedParamIsNotFound } from '../params';

const getFile = createRoute({
  method: 'get',
  path: '/files/{file_id}',
  operationId: 'getFile',
  tags: ['files'],
  security: [],
  summary: 'Download a result image',
  description:
    'No Authorization header needed: the id holds about 190 random bits, so the URL is the capability. ' +
    'Task results link here.',
  request: { params: FileIdParam },
  responses: {
    200: { description: 'The image bytes.', content: { 'image/png': { schema: z.string().openapi({ format: 'binary' }) } } },
    ...errorResponses(404),
  },
});

export const filesRoutes = createRouter().openapi(
  getFile,
  async (c) => {
    const { file_id } = c.req.valid('param');
    const object = await c.env.IMAGES.get(file_id);
    if (!object) throw new ApiError('not_found', `No file ${file_id}.`, { param: 'file_id' });
    const headers = new Headers();
    object.writeHttpMetadata(headers);
    headers.set('etag', object.httpEtag);
    headers.set('content-length', String(object.size));
    return new Response(object.body, { status: 200, headers });
  },
  malformedParamIsNotFound('file_id', 'file'),
);
