// The event types a webhook endpoint may subscribe to: the server's own list.
export { EVENT_TYPES } from "../../src/domain/event-types.js";
