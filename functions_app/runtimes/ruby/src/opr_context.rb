# frozen_string_literal: true

# The Open Runtimes v5 `context` given to `main(context)`: `req`, `res`, `log` and `error`,
# plus the per-request logger and the capture of native `puts`/`print`/`warn` output. The
# class names are open-runtimes' (RuntimeRequest, RuntimeResponse, RuntimeContext,
# RuntimeLogger); everything else of the server lives in the OPR module.

require 'json'
require 'securerandom'
require 'set'
require 'stringio'
require 'time'

# The logger of one request: `<id>_logs.log` and `<id>_errors.log` in the logs directory,
# opened on first write, so a request that logs nothing leaves no files behind.
class RuntimeLogger
  TYPE_LOG = 'log'
  TYPE_ERROR = 'error'
  LOG_LIMIT = 8000
  TRUNCATED = '... Log truncated due to size limit (8000 characters)'
  NATIVE_NOTICE = 'Native logs detected. Use context.log() or context.error() for better experience.'
  ID_PATTERN = /\A[A-Za-z0-9_-]{1,128}\z/.freeze
  MAX_DEPTH = 64

  attr_reader :id, :enabled

  def initialize(status, id, directory: '/mnt/logs', development: false)
    @enabled = status.nil? || status.empty? || status == 'enabled'
    @id = ''
    @directory = directory
    @includes_native_info = false
    @streams = {}
    @lock = Mutex.new
    return unless @enabled

    @id = if id && ID_PATTERN.match?(id)
            id
          else
            development ? 'dev' : RuntimeLogger.generate_id
          end
  end

  # A PHP `uniqid`-like id: seconds and microseconds in hex, then random hex.
  def self.generate_id(padding = 7)
    now = Time.now
    format('%<sec>08x%<usec>05x', sec: now.to_i, usec: now.usec) + SecureRandom.hex(padding)[0, padding]
  end

  def write(messages, type = TYPE_LOG, native = false)
    return unless @enabled

    if native && !@includes_native_info
      @includes_native_info = true
      write([NATIVE_NOTICE, "\n"].join, TYPE_LOG)
    end
    text = RuntimeLogger.format_messages(messages.is_a?(Array) ? messages : [messages])
    begin
      stream(type)&.write(text)
    rescue StandardError
      nil # a failed log write must never fail the execution
    end
  end

  def end
    @lock.synchronize do
      @enabled = false
      @streams.each_value do |stream|
        stream.close
      rescue StandardError
        nil
      end
      @streams.clear
    end
  end

  def self.format_messages(messages)
    text = messages.map { |message| format_message(message) }.join(' ')
    text = text.dup.force_encoding(Encoding::UTF_8).scrub unless text.valid_encoding?
    text = text[0, LOG_LIMIT] + TRUNCATED if text.length > LOG_LIMIT
    text
  end

  def self.format_message(message)
    case message
    when String then message
    when Exception then describe_exception(message)
    when Hash, Array, Set, Struct
      begin
        JSON.generate(plain(message, 0))
      rescue StandardError
        message.inspect
      end
    else message.to_s
    end
  end

  def self.describe_exception(error)
    lines = ["#{error.class}: #{error.message}"]
    lines.concat(error.backtrace.map { |line| "    from #{line}" }) if error.backtrace
    lines.join("\n")
  end

  # A structure JSON can hold: Ruby's own kinds are written readably (sets and ranges as
  # lists, structs and objects with to_h as maps, symbols, times and the rest as text).
  def self.plain(value, depth)
    return value.to_s if depth > MAX_DEPTH

    case value
    when nil, true, false, Integer, String then value
    when Float then value.finite? ? value : value.to_s
    when Symbol then value.to_s
    when Hash then value.each_with_object({}) { |(k, v), out| out[k.is_a?(String) ? k : format_message(k)] = plain(v, depth + 1) }
    when Array, Set then value.map { |item| plain(item, depth + 1) }
    when Struct then plain(value.to_h, depth + 1)
    when Range
      small = value.begin.is_a?(Integer) && value.end.is_a?(Integer) && value.size <= 1000
      small ? value.to_a : value.to_s
    when Time then value.iso8601(3)
    when Rational, Complex then value.to_s
    when Exception then describe_exception(value)
    else value.to_s
    end
  rescue StandardError
    value.inspect
  end

  private

  def stream(type)
    kind = type == TYPE_ERROR ? 'errors' : 'logs'
    @lock.synchronize do
      return nil unless @enabled # ended: a function still running after its timeout writes nothing

      @streams[kind] ||= File.open(File.join(@directory, "#{@id}_#{kind}.log"), 'ab')
    end
  end
end

class RuntimeRequest
  attr_accessor :body_binary, :headers, :method, :url, :path, :port, :scheme, :host, :query,
                :query_string

  def initialize(url: '', method: 'GET', scheme: 'http', host: '', port: 80, path: '/',
                 query: {}, query_string: '', headers: {}, body_binary: ''.b)
    @url = url
    @method = method
    @scheme = scheme
    @host = host
    @port = port
    @path = path
    @query = query
    @query_string = query_string
    @headers = headers
    @body_binary = body_binary
  end

  def body_text
    @body_binary.dup.force_encoding(Encoding::UTF_8)
  end

  def body_raw
    body_text
  end

  def body_json
    JSON.parse(body_text)
  end

  def body
    content_type = (@headers['content-type'] || 'text/plain').to_s.downcase
    if content_type.start_with?('application/json')
      return @body_binary.empty? ? {} : body_json
    end

    body_text
  end
end

# Each method returns `{'body' => ..., 'statusCode' => ..., 'headers' => {...}}`, with
# open-runtimes' positional parameters: (body, status_code = 200, headers = {}).
class RuntimeResponse
  def binary(bytes, status_code = 200, headers = nil)
    bytes = bytes.pack('C*') if bytes.is_a?(Array)
    { 'body' => bytes, 'statusCode' => status_code, 'headers' => headers.nil? ? {} : headers }
  end

  def text(body, status_code = 200, headers = nil)
    binary(body.to_s, status_code, headers)
  end

  def send(body, status_code = 200, headers = nil)
    body = JSON.generate(body) if body.is_a?(Hash) || body.is_a?(Array)
    text(body, status_code, headers)
  end

  def json(obj, status_code = 200, headers = nil)
    headers = {} if headers.nil?
    headers['content-type'] = 'application/json'
    text(JSON.generate(obj), status_code, headers)
  end

  def empty
    text('', 204, {})
  end

  def redirect(url, status_code = 301, headers = nil)
    headers = {} if headers.nil?
    headers['location'] = url
    text('', status_code, headers)
  end
end

class RuntimeContext
  attr_accessor :req, :res, :logger

  def initialize(req, res, logger)
    @req = req
    @res = res
    @logger = logger
  end

  def log(*messages)
    @logger.write(messages, RuntimeLogger::TYPE_LOG)
    @logger.write(["\n"], RuntimeLogger::TYPE_LOG)
  end

  def error(*messages)
    @logger.write(messages, RuntimeLogger::TYPE_ERROR)
    @logger.write(["\n"], RuntimeLogger::TYPE_ERROR)
  end
end

module OPR
  # Native output capture. $stdout and $stderr are replaced once, at start-up, by proxies that
  # write into the buffer of the request whose code is running: the buffer is fiber storage
  # (Ruby >= 3.2, inherited by threads the function starts) or a fiber-local of the worker
  # thread (3.1), so concurrent requests never see each other's output.
  module Capture
    KEY = :opr_native_capture
    STORAGE = Fiber.respond_to?(:[])

    def self.current
      STORAGE ? Fiber[KEY] : Thread.current[KEY]
    end

    def self.current=(buffer)
      if STORAGE
        Fiber[KEY] = buffer
      else
        Thread.current[KEY] = buffer
      end
    end

    def self.start
      buffer = StringIO.new(+'')
      self.current = buffer
      buffer
    end

    def self.stop(buffer, logger)
      self.current = nil
      text = buffer.string
      logger.write([text], RuntimeLogger::TYPE_LOG, true) unless text.empty?
    end

    def self.install
      $stdout = Stream.new(STDOUT)
      $stderr = Stream.new(STDERR)
      Thread.singleton_class.prepend(InheritInThreads) unless STORAGE
    end

    # Ruby < 3.2 has no fiber storage that threads inherit: a thread started while a request's
    # capture is on gets that capture too (threads started by the server are unaffected).
    module InheritInThreads
      %i[new start fork].each do |name|
        define_method(name) do |*args, &block|
          buffer = Capture.current
          return super(*args, &block) if buffer.nil? || block.nil?

          super(*args) do |*inner|
            Capture.current = buffer
            block.call(*inner)
          end
        end
        ruby2_keywords(name)
      end
    end

    # Forwards every IO call to the current request's buffer, or to the real stream.
    class Stream
      def initialize(real)
        @real = real
      end

      def target
        Capture.current || @real
      end

      %i[write print puts printf putc << flush sync sync= fsync tty? isatty fileno].each do |name|
        define_method(name) { |*args, &block| target.__send__(name, *args, &block) }
      end

      def method_missing(name, *args, &block)
        target.respond_to?(name) ? target.__send__(name, *args, &block) : super
      end

      def respond_to_missing?(name, include_private = false)
        target.respond_to?(name, include_private) || super
      end
    end
  end
end
