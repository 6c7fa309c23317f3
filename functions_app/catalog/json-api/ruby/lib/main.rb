# A JSON API with routing on method and path. Items live in the warm runtime's memory.
require 'json'
require 'securerandom'
require 'time'

ITEMS = {}
ITEM_PATH = %r{\A/items/([A-Za-z0-9-]{1,64})\z}

def api_error(res, status, message, headers = {})
  res.json({ 'error' => message }, status, headers)
end

def read_name(req)
  body = begin
    req.body_json
  rescue JSON::ParserError
    nil
  end
  name = body.is_a?(Hash) ? body['name'] : nil
  name.is_a?(String) && !name.strip.empty? ? name.strip : nil
end

ROUTES = {
  '/' => {
    'GET' => ->(ctx) { ctx.res.json({ 'routes' => ['/items', '/items/{id}'] }) }
  },
  '/items' => {
    'GET' => ->(ctx) { ctx.res.json({ 'total' => ITEMS.size, 'items' => ITEMS.values }) },
    'POST' => lambda do |ctx|
      name = read_name(ctx.req)
      next api_error(ctx.res, 400, 'Send a JSON body {"name": "..."}.') if name.nil?
      next api_error(ctx.res, 409, 'The store is full.') if ITEMS.size >= (ENV['MAX_ITEMS'] || '100').to_i

      item = { 'id' => SecureRandom.hex(6), 'name' => name, 'createdAt' => Time.now.utc.iso8601(3) }
      ITEMS[item['id']] = item
      ctx.log("created item #{item['id']}")
      ctx.res.json(item, 201)
    end
  },
  '/items/{id}' => {
    'GET' => ->(ctx, id) { ITEMS.key?(id) ? ctx.res.json(ITEMS[id]) : api_error(ctx.res, 404, 'Item not found.') },
    'PATCH' => lambda do |ctx, id|
      next api_error(ctx.res, 404, 'Item not found.') unless ITEMS.key?(id)

      name = read_name(ctx.req)
      next api_error(ctx.res, 400, 'Send a JSON body {"name": "..."}.') if name.nil?

      ITEMS[id]['name'] = name
      ctx.res.json(ITEMS[id])
    end,
    'DELETE' => ->(ctx, id) { ITEMS.delete(id) ? ctx.res.empty : api_error(ctx.res, 404, 'Item not found.') }
  }
}.freeze

def main(context)
  path = context.req.path.sub(%r{/+\z}, '')
  path = '/' if path.empty?
  match = ITEM_PATH.match(path)
  route, args = match ? ['/items/{id}', [match[1]]] : [path, []]
  handlers = ROUTES[route]
  return api_error(context.res, 404, "No route for #{path}.") if handlers.nil?

  handler = handlers[context.req.method]
  if handler.nil?
    return api_error(context.res, 405, "#{context.req.method} is not allowed here.", { 'allow' => handlers.keys.join(', ') })
  end

  handler.call(context, *args)
end
