/**
 * Features declare their routes' request and response schemas (zod) beside their handlers and
 * register them here at module load; /openapi.json merges them, converted with zod 4's JSON Schema
 * output, so the document is generated from the same schemas that validate requests.
 */
import { z } from 'zod';

type Schema = Record<string, unknown>;

export interface DocumentedOperation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI path, with `{name}` parameters. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  request?: z.ZodType;
  /** Media type of the request body (default application/json; uploads: multipart/form-data). */
  requestType?: string;
  response: z.ZodType;
  /** Media type of the success answer (default application/json; downloads: application/octet-stream). */
  responseType?: string;
  /** Status of the success answer (default 200). */
  status?: number;
  parameters?: { name: string; in: 'path' | 'query'; required?: boolean; description?: string }[];
  errors?: number[];
  /** Body of the error answers (default: the OpenAI-shaped `Error` component). */
  errorResponse?: z.ZodType;
}

const operations: DocumentedOperation[] = [];

export function documentOperations(...added: DocumentedOperation[]): void {
  operations.push(...added);
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Schema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Schema;
  return rest;
}

const errorSchema: Schema = { $ref: '#/components/schemas/Error' };

/** Paths of every registered operation, in the shape of an OpenAPI `paths` object. */
export function registeredPaths(): Record<string, Schema> {
  const paths: Record<string, Schema> = {};
  for (const operation of operations) {
    const responses: Schema = {
      [String(operation.status ?? 200)]: {
        description: 'Success',
        content: { [operation.responseType ?? 'application/json']: { schema: jsonSchema(operation.response, 'output') } },
      },
    };
    const error = operation.errorResponse ? jsonSchema(operation.errorResponse, 'output') : errorSchema;
    for (const status of operation.errors ?? [400, 401, 404]) {
      responses[String(status)] = { description: 'Error', content: { 'application/json': { schema: error } } };
    }
    const entry: Schema = { tags: [operation.tag], summary: operation.summary, responses };
    if (operation.description) entry.description = operation.description;
    if (operation.parameters) {
      entry.parameters = operation.parameters.map((parameter) => ({
        ...parameter,
        required: parameter.in === 'path' ? true : (parameter.required ?? false),
        schema: { type: 'string' },
      }));
    }
    if (operation.request) {
      entry.requestBody = {
        required: true,
        content: { [operation.requestType ?? 'application/json']: { schema: jsonSchema(operation.request, 'input') } },
      };
    }
    const path = paths[operation.path] ?? {};
    path[operation.method] = entry;
    paths[operation.path] = path;
  }
  return paths;
}
