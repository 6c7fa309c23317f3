require 'json'
require 'set'

BUILT = File.read(File.join(__dir__, 'built.txt'))

Point = Struct.new(:x, :y)

def main(context)
  req = context.req
  res = context.res

  case req.path
  when '/echo'
    body_json = begin
      req.body_json
    rescue JSON::ParserError
      nil
    end
    env = ENV.to_h.select { |key, _| key.start_with?('APPWRITE_FUNCTION_', 'CONFORMANCE_') }
    res.json({
               'method' => req.method,
               'scheme' => req.scheme,
               'host' => req.host,
               'port' => req.port,
               'path' => req.path,
               'query' => req.query,
               'queryString' => req.query_string,
               'headers' => req.headers,
               'bodyText' => req.body_text,
               'bodyJson' => body_json,
               'url' => req.url,
               'env' => env,
               'built' => BUILT
             })
  when '/binary'
    res.binary(req.body_binary.reverse)
  when '/headers'
    res.text('<b/>', 201, { 'Content-Type' => 'Text/HTML', 'X-Custom' => 'V', 'x-open-runtimes-x' => '1' })
  when '/json'
    res.json({ 'ok' => true, 'list' => [1, 2], 'nested' => { 'a' => 'b' } })
  when '/redirect'
    res.redirect('https://example.com/next', 301)
  when '/empty'
    res.empty
  when '/status'
    res.text('teapot', 418)
  when '/cookie'
    res.text('cookie', 200, { 'set-cookie' => 'session=abc; Path=/; HttpOnly' })
  when '/send'
    res.send('sent', 202)
  when '/log'
    puts 'native out'
    context.log('a', { 'b' => 1 }, [1, 2], 3, true)
    context.error('problem')
    context.log('x' * 9000)
    res.text('logged')
  when '/objects'
    context.log({
                  text: 'marker-1',
                  number: 42,
                  list: [1, [2, 3]],
                  map: { 'k' => { 'v' => 1 } },
                  none: nil,
                  flag: false,
                  float: 1.5,
                  symbol: :sym,
                  set: Set['setval'],
                  range: (1..3),
                  struct: Point.new(1, 2),
                  rational: Rational(1, 3)
                })
    res.text('objects')
  when '/throw'
    raise 'boom'
  when '/none'
    nil
  when '/sleep'
    sleep((req.query['s'] || '1').to_f)
    res.text('slept')
  else
    res.text("unknown path #{req.path}", 404)
  end
end
