export { StoreGateway } from './store-gateway.js';
export type { StoreGatewayOptions } from './store-gateway.js';
