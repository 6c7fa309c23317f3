# The runtime calls main(context) for each request: context.req is the request, context.res
# builds the response, context.log and context.error write to the execution's logs.
def main(context)
  return context.res.text('Pong') if context.req.path == '/ping'

  greeting = ENV['GREETING'].to_s.empty? ? 'Hello' : ENV['GREETING']
  name = ENV.fetch('APPWRITE_FUNCTION_NAME', 'function')
  context.log("#{greeting} from #{name}: #{context.req.method} #{context.req.path}")
  context.res.json({
                     'message' => "#{greeting} from #{name}!",
                     'method' => context.req.method,
                     'path' => context.req.path,
                     'query' => context.req.query,
                     'runtime' => [ENV['APPWRITE_FUNCTION_RUNTIME_NAME'], ENV['APPWRITE_FUNCTION_RUNTIME_VERSION']].compact.join(' ').strip
                   })
end
