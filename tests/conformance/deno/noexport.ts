// No default export: the module only has a named one.
export function handler({ res }: any) {
  return res.text("never");
}
