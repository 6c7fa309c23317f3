# frozen_string_literal: true

# Open Runtimes v5 function server for Ruby, standard library only.
#
# Loads the entrypoint (the code lives in /usr/local/server/src/function) once, the way
# open-runtimes does (`load`, so `def main(context)` at the top level defines `main`), calls
# `main(context)` for each request in a worker thread of its own (soft timeout: the thread is
# killed and the request answers 500 "Execution timed out."), and answers the way the v5
# runtime does. Listens on the Unix socket OPEN_RUNTIMES_SOCKET when set, else on TCP port
# OPEN_RUNTIMES_PORT (3000). One thread per connection.

require 'rbconfig'

module OPR
  FUNCTION_DIR = ENV['OPEN_RUNTIMES_FUNCTION_DIR'] || '/usr/local/server/src/function'
  SERVER_DIR = File.expand_path(__dir__)

  # The function's gems, set up before anything else is required, so the versions its
  # Gemfile.lock pins win over the default gems this server uses (json). Gems installed at
  # build time live in vendor/bundle/ruby/<abi> (helpers/build.sh), Gemfile or not.
  module Gems
    class << self
      attr_reader :error
    end

    def self.setup(dir)
      vendor = File.join(dir, 'vendor', 'bundle')
      home = File.join(vendor, 'ruby', RbConfig::CONFIG['ruby_version'])
      if File.directory?(home)
        ENV['GEM_PATH'] = [home, *Gem.path].uniq.join(File::PATH_SEPARATOR)
        ENV['PATH'] = [File.join(home, 'bin'), ENV['PATH']].join(File::PATH_SEPARATOR)
        Gem.clear_paths
      end
      gemfile = %w[Gemfile gems.rb].map { |name| File.join(dir, name) }.find { |p| File.file?(p) }
      return unless gemfile

      ENV['BUNDLE_GEMFILE'] = gemfile
      ENV['BUNDLE_PATH'] ||= vendor
      ENV['BUNDLE_FROZEN'] ||= 'true' # the code folder is read-only: never rewrite the lock
      require 'bundler'
      Bundler.setup
    rescue Exception => e # rubocop:disable Lint/RescueException - bundler may even `exit`
      @error = "Bundler could not set up the function's gems: #{e.message}"
      warn @error
    end
  end
  Gems.setup(FUNCTION_DIR)
end

require_relative 'opr_context'
require_relative 'opr_http'

module OPR
  TIMEOUT_ERROR = 'Header "x-open-runtimes-timeout" must be an integer greater than 0.'
  SECRET_ERROR = 'Unauthorized. Provide correct "x-open-runtimes-secret" header.'
  RETURN_MISSING = 'Return statement missing. return context.res.empty() if no response is expected.'
  SIGNATURE_INVALID = "Function signature invalid. Did you forget to export a 'main' function?"
  TIMED_OUT = 'Execution timed out.'
  TEXT_PLAIN = 'text/plain; charset=utf-8'
  SKIPPED_HEADERS = %w[content-length transfer-encoding connection].freeze

  # The entrypoint cannot serve: answered 503 with this message in the errors.
  class LoadFailure < StandardError; end

  def self.server_frame?(line)
    line.start_with?("#{SERVER_DIR}/") && !line.start_with?("#{FUNCTION_DIR}/")
  end

  # The error's full message and backtrace (and its causes'), without the server's frames.
  def self.format_exception(error)
    seen = {}
    current = error
    while current && !seen[current.object_id]
      seen[current.object_id] = true
      trace = current.backtrace
      if trace
        kept = trace.reject { |line| server_frame?(line) }
        current.set_backtrace(kept.empty? ? trace : kept)
      end
      current = current.cause
    end
    error.full_message(highlight: false, order: :top)
  rescue StandardError
    "#{error.class}: #{error.message}"
  end

  class Runtime
    def initialize(env)
      @secret = env['OPEN_RUNTIMES_SECRET'].to_s
      @entrypoint = env['OPEN_RUNTIMES_ENTRYPOINT'].to_s
      @entrypoint = 'index.rb' if @entrypoint.empty?
      @logs_dir = env['OPEN_RUNTIMES_LOGS_DIR'] || '/mnt/logs'
      @development = env['OPEN_RUNTIMES_ENV'] == 'development'
      @forced_headers = forced_headers(env['OPEN_RUNTIMES_HEADERS'])
      @load_lock = Mutex.new
      @file_loaded = false
      @ready = false
    end

    # The HTTP application: request -> [status, [[name, value]], body].
    def call(request)
      path = request.target.split('?', 2).first
      return [200, [['content-type', TEXT_PLAIN]], 'OK'] if path == '/__opr/health'
      return [200, [['content-type', TEXT_PLAIN]], timings] if path == '/__opr/timings'

      logger = RuntimeLogger.new(request.header('x-open-runtimes-logging'),
                                 request.header('x-open-runtimes-log-id'),
                                 directory: @logs_dir, development: @development)
      begin
        action(request, logger)
      rescue Exception => e # rubocop:disable Lint/RescueException - any failure is a 500
        logger.write([OPR.format_exception(e)], RuntimeLogger::TYPE_ERROR)
        [500, [['content-type', TEXT_PLAIN], ['x-open-runtimes-log-id', logger.id]], '']
      ensure
        logger.end
      end
    end

    private

    def action(request, logger)
      if !@secret.empty? && request.header('x-open-runtimes-secret') != @secret
        return [500, [['content-type', TEXT_PLAIN]], SECRET_ERROR]
      end

      timeout = request.header('x-open-runtimes-timeout')
      if !timeout.empty? && (!timeout.match?(/\A\d+\z/) || timeout.to_i.zero?)
        return [500, [['content-type', TEXT_PLAIN]], TIMEOUT_ERROR]
      end

      begin
        load_function
      rescue LoadFailure => e
        logger.write([e.message, "\n"], RuntimeLogger::TYPE_ERROR)
        return [503, [['content-type', TEXT_PLAIN], ['x-open-runtimes-log-id', logger.id]], '']
      end

      context = build_context(request, logger)
      output = run_user_code(context, timeout.empty? ? nil : timeout.to_i)
      if output.nil?
        context.error(RETURN_MISSING)
        output = context.res.text('', 500, {})
      end
      status, headers, body = normalise(output)
      headers << ['x-open-runtimes-log-id', logger.id]
      [status, headers, body]
    end

    # -- user code --------------------------------------------------------------------------
    def main_defined?
      Object.private_method_defined?(:main) || Object.method_defined?(:main)
    end

    # The entrypoint, loaded once (its state persists while the runtime is warm). A file that
    # cannot serve raises LoadFailure with open-runtimes' 503 message ("safe entrypoints").
    def load_function
      return if @ready

      @load_lock.synchronize do
        return if @ready

        file = File.join(FUNCTION_DIR, @entrypoint)
        unless File.file?(file)
          raise LoadFailure, "Failed to load entrypoint, file #{@entrypoint} does not exist."
        end

        load_file(file) unless @file_loaded
        raise LoadFailure, SIGNATURE_INVALID unless main_defined?

        @ready = true
      end
    end

    def load_file(file)
      Kernel.load(file)
      @file_loaded = true
    rescue SyntaxError => e
      raise LoadFailure, "Syntax error in #{e.message}"
    rescue LoadError => e
      message = "Failed to load file: #{e.message}"
      message += "\n#{Gems.error}" if Gems.error
      raise LoadFailure, message
    rescue StandardError, ScriptError, SystemStackError => e
      raise LoadFailure, "Failed to load module: #{OPR.format_exception(e)}"
    end

    def call_main(context)
      receiver = TOPLEVEL_BINDING.receiver
      arity = Object.instance_method(:main).arity
      arity.zero? ? receiver.__send__(:main) : receiver.__send__(:main, context)
    end

    # main(context) in a thread of its own: native output is captured per request, and the
    # soft timeout can stop it (Thread#kill runs the function's ensure blocks).
    def run_user_code(context, timeout)
      buffer = StringIO.new(+'')
      worker = Thread.new do
        Capture.current = buffer
        begin
          [:ok, call_main(context)]
        rescue Exception => e # rubocop:disable Lint/RescueException - exit, raise Exception...
          [:error, e]
        end
      end
      worker.report_on_exception = false
      finished = timeout.nil? ? worker.join : worker.join(timeout)
      unless finished
        worker.kill
        Capture.stop(buffer, context.logger)
        context.error(TIMED_OUT)
        return context.res.text('', 500, {})
      end
      kind, value = worker.value
      Capture.stop(buffer, context.logger)
      return value if kind == :ok

      context.error(OPR.format_exception(value))
      context.res.text('', 500, {})
    end

    # -- request -> context -------------------------------------------------------------------
    def build_context(request, logger)
      raw_path, query_string = request.target.split('?', 2)
      query_string ||= ''
      headers = {}
      request.headers.each do |name, value|
        next if name.start_with?('x-open-runtimes-')

        headers[name] = value unless headers.key?(name)
      end
      headers.merge!(@forced_headers)
      scheme = headers['x-forwarded-proto'] || 'http'
      default_port = scheme == 'https' ? 443 : 80
      host, port = split_host(headers['host'].to_s)
      port = port.match?(/\A\d+\z/) ? port.to_i : default_port
      url = +"#{scheme}://#{host}"
      url << ":#{port}" if port != default_port
      url << raw_path
      url << "?#{query_string}" unless query_string.empty?
      req = RuntimeRequest.new(url: url, method: request.method, scheme: scheme, host: host,
                               port: port, path: raw_path, query: parse_query(query_string),
                               query_string: query_string, headers: headers,
                               body_binary: request.body.b)
      RuntimeContext.new(req, RuntimeResponse.new, logger)
    end

    def split_host(value)
      if value.start_with?('[') && (close = value.index(']'))
        rest = value[(close + 1)..]
        return [value[0..close], rest.start_with?(':') ? rest[1..] : '']
      end
      host, port = value.split(':', 2)
      [host.to_s, port.to_s]
    end

    def parse_query(query_string)
      query = {}
      query_string.split('&').each do |param|
        key, value = param.split('=', 2)
        query[key] = value || '' unless key.nil? || key.empty?
      end
      query
    end

    def forced_headers(text)
      parsed = JSON.parse(text.to_s.empty? ? '{}' : text)
      return {} unless parsed.is_a?(Hash)

      parsed.to_h { |key, value| [key.to_s.downcase, value.to_s] }
    rescue JSON::ParserError
      {}
    end

    def timings
      File.binread('/mnt/telemetry/timings.txt')
    rescue SystemCallError
      ''
    end

    # -- output -> response -------------------------------------------------------------------
    def field(output, name)
      return output[name] if output.key?(name)

      output[name.to_sym]
    end

    def encode_body(body)
      case body
      when nil then ''.b
      when String then body.b
      when Array
        body.all?(Integer) ? body.pack('C*') : JSON.generate(body).b
      when Hash then JSON.generate(body).b
      else body.to_s.b
      end
    end

    def header_value(value)
      text = value.to_s
      raise ArgumentError, "Invalid response header value: #{text.inspect}" if text.match?(/[\r\n]/)

      text
    end

    # The function's {body, statusCode, headers} as [status, [[name, value]], binary body].
    def normalise(output)
      output = output.to_h if !output.is_a?(Hash) && output.respond_to?(:to_h)
      unless output.is_a?(Hash)
        raise TypeError, "Function returned #{output.class}; return one of the context.res.* results."
      end

      status = Integer(field(output, 'statusCode') || 200)
      raise ArgumentError, "Invalid response status code: #{status}" unless (100..999).cover?(status)

      body = encode_body(field(output, 'body'))
      headers = []
      content_type = 'text/plain'
      (field(output, 'headers') || {}).each do |key, value|
        name = key.to_s.downcase
        next if name.start_with?('x-open-runtimes-') || SKIPPED_HEADERS.include?(name)

        if name == 'content-type'
          content_type = value.to_s
          next
        end
        (value.is_a?(Array) ? value : [value]).each { |item| headers << [name, header_value(item)] }
      end
      content_type = header_value(content_type).downcase
      unless content_type.start_with?('multipart/') || content_type.include?('charset=')
        content_type += '; charset=utf-8'
      end
      headers.unshift(['content-type', content_type])
      [status, headers, body]
    end
  end

  def self.main
    STDOUT.sync = true
    socket_path = ENV['OPEN_RUNTIMES_SOCKET'].to_s
    %w[TERM INT].each do |signal|
      Signal.trap(signal) do
        begin
          File.unlink(socket_path) unless socket_path.empty?
        rescue SystemCallError
          nil
        end
        exit!(0)
      end
    end
    runtime = Runtime.new(ENV)
    port = (ENV['OPEN_RUNTIMES_PORT'] || '3000').to_i
    server = HTTP.listen(socket_path: socket_path, port: port)
    Capture.install
    STDOUT.puts 'HTTP server successfully started!'
    HTTP.serve(server, runtime)
  end
end

OPR.main if $PROGRAM_NAME == __FILE__
