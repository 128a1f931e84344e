/** Registers the inbound Gemini API (POST /v1beta/models/{model}:... and /v1/models/{model}:..., GET /v1beta/models). */
import type { GatewayExtension } from '../app.ts';
// Documents the Gemini routes in /openapi.json (at module load).
import './gemini-openapi.ts';
import { createGeminiRoutes, withGeminiModelListing } from './gemini-routes.ts';

export function createGeminiExtension(): GatewayExtension {
  return (gateway) => {
    const catalog = gateway.routing.catalog;
    gateway.addRoutes(createGeminiRoutes({ registry: gateway.registry, bus: gateway.bus, pipeline: gateway.pipeline, catalog }));
    // Not access control: the hook that wraps every route is how GET /v1/models learns Gemini's shape.
    gateway.useAccess({ route: (route) => withGeminiModelListing(route) });
  };
}
