// The records the domain reads and hands out (keys, policies, permissions,
// audit events, webhooks), for the layers above it: transport converts them to
// messages without reaching past the domain into storage. Storage defines
// them once (storage/records.ts, types only); this names them, all of them.
export type * from "../storage/records.js";
