// Every bound Keyward puts on its inputs, in one place (documented in the README).
export const Limits = {
  nameLength: 100,
  descriptionLength: 1_000,
  idLength: 64,
  permissionsPerPolicy: 500,
  permissionsPerRegistration: 1_000,
  permissionsPerCheck: 100,
  subnetsPerKey: 32,
  constraintsPerKey: 20,
  constraintLength: 512,
  defaultPageSize: 50,
  maxPageSize: 1_000,
} as const;
