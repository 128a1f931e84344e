/** Registers the inbound Anthropic Messages API (POST /v1/messages, POST /v1/messages/count_tokens). */
import type { GatewayExtension } from '../app.ts';
import { createMessagesRoutes } from '../routes/messages.ts';

export function createMessagesExtension(): GatewayExtension {
  return (gateway) => {
    gateway.addRoutes(createMessagesRoutes({ registry: gateway.registry, bus: gateway.bus, pipeline: gateway.pipeline }));
  };
}
