// No default export: the module only has a named one.
export const handler = async ({ res }: any) => res.text("never");
