// No main export: module.exports stays a plain object whose only member is not the function.
exports.handler = async ({ res }) => res.text("never");
