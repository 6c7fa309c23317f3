# Defines no `main`: its executions answer 503 (open-runtimes' "Function signature invalid").
def handler(context)
  context.res.text('never')
end
