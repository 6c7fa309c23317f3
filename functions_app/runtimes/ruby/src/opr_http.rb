# frozen_string_literal: true

# A small HTTP/1.1 server, standard library only: just what an executor speaks to a runtime.
#
# Keep-alive, Content-Length and chunked request bodies, `Expect: 100-continue`, a 20 MB body
# limit (413), and every response written with a single `write` (head and body together, with
# TCP_NODELAY on TCP), so Nagle's algorithm never delays a keep-alive reply. One thread per
# connection. It listens on a Unix socket (atomically: bound under a temporary name, listening,
# chmod 0666, then renamed, so the path appearing means the server accepts) or on a TCP port.

require 'socket'
require 'io/wait'

module OPR
  module HTTP
    MAX_HEAD = 64 * 1024
    MAX_BODY = 20 * 1024 * 1024
    IDLE_TIMEOUT = 75
    READ_TIMEOUT = 300
    BINARY = Encoding::BINARY
    CRLF = "\r\n".b.freeze
    HEAD_END = "\r\n\r\n".b.freeze
    TOKEN = /\A[!#$%&'*+\-.^_`|~0-9A-Za-z]+\z/.freeze
    REASONS = {
      100 => 'Continue', 101 => 'Switching Protocols', 200 => 'OK', 201 => 'Created',
      202 => 'Accepted', 203 => 'Non-Authoritative Information', 204 => 'No Content',
      205 => 'Reset Content', 206 => 'Partial Content', 300 => 'Multiple Choices',
      301 => 'Moved Permanently', 302 => 'Found', 303 => 'See Other', 304 => 'Not Modified',
      307 => 'Temporary Redirect', 308 => 'Permanent Redirect', 400 => 'Bad Request',
      401 => 'Unauthorized', 402 => 'Payment Required', 403 => 'Forbidden', 404 => 'Not Found',
      405 => 'Method Not Allowed', 406 => 'Not Acceptable', 408 => 'Request Timeout',
      409 => 'Conflict', 410 => 'Gone', 411 => 'Length Required', 412 => 'Precondition Failed',
      413 => 'Request Entity Too Large', 414 => 'Request-URI Too Long',
      415 => 'Unsupported Media Type', 416 => 'Requested Range Not Satisfiable',
      417 => 'Expectation Failed', 418 => "I'm a Teapot", 422 => 'Unprocessable Entity',
      425 => 'Too Early', 426 => 'Upgrade Required', 428 => 'Precondition Required',
      429 => 'Too Many Requests', 431 => 'Request Header Fields Too Large',
      451 => 'Unavailable For Legal Reasons', 500 => 'Internal Server Error',
      501 => 'Not Implemented', 502 => 'Bad Gateway', 503 => 'Service Unavailable',
      504 => 'Gateway Timeout', 505 => 'HTTP Version Not Supported'
    }.freeze

    # A request the server rejects before the application sees it.
    class Error < StandardError
      attr_reader :status

      def initialize(status, message)
        super(message)
        @status = status
      end
    end

    # The client went away (or stayed silent too long) in the middle of a request.
    class Closed < StandardError; end

    class Request
      attr_reader :method, :target, :version, :headers
      attr_accessor :body, :keep_alive

      def initialize(method, target, version, headers)
        @method = method
        @target = target
        @version = version
        @headers = headers # [[lower-cased name, value]], in arrival order
        @body = ''.b
        @keep_alive = true
      end

      def header(name, default = '')
        pair = @headers.find { |key, _| key == name }
        pair ? pair[1] : default
      end
    end

    def self.reason(status)
      REASONS.fetch(status, '')
    end

    # The whole response as one binary string. `headers` is [[name, value]].
    def self.serialize(status, headers, body, keep_alive: true, head_only: false)
      head = +"HTTP/1.1 #{status} #{reason(status)}\r\n"
      headers.each { |name, value| head << name << ': ' << value.to_s << "\r\n" }
      no_body = status < 200 || status == 204 || status == 304
      head << "content-length: #{body.bytesize}\r\n" unless no_body
      head << "connection: close\r\n" unless keep_alive
      head << "\r\n"
      out = head.b
      out << body.b unless no_body || head_only
      out
    end

    # One connection: a buffered reader over the socket, and the request loop.
    class Connection
      def initialize(io, app)
        @io = io
        @app = app
        @buffer = ''.b
      end

      def serve
        loop do
          request = begin
            read_request
          rescue Error => e
            answer = HTTP.serialize(e.status, [['content-type', 'text/plain; charset=utf-8']],
                                    e.message, keep_alive: false)
            @io.write(answer)
            return
          end
          return if request.nil?

          status, headers, body = @app.call(request)
          @io.write(HTTP.serialize(status, headers, body, keep_alive: request.keep_alive,
                                                          head_only: request.method == 'HEAD'))
          return unless request.keep_alive
        end
      rescue Closed, IOError, SystemCallError
        nil
      ensure
        begin
          @io.close
        rescue IOError, SystemCallError
          nil
        end
      end

      private

      # More bytes into the buffer; false at end of stream.
      def fill(timeout)
        raise Closed, 'timed out' unless @io.wait_readable(timeout)

        @buffer << @io.readpartial(65_536)
        true
      rescue EOFError
        false
      end

      def read_exactly(length)
        while @buffer.bytesize < length
          raise Closed, 'incomplete body' unless fill(READ_TIMEOUT)
        end
        @buffer.slice!(0, length)
      end

      def read_line
        until (index = @buffer.index(CRLF))
          raise Error.new(400, 'Bad Request') if @buffer.bytesize > MAX_HEAD
          raise Closed, 'incomplete chunk' unless fill(READ_TIMEOUT)
        end
        @buffer.slice!(0, index + 2)
      end

      # The next request on the connection, or nil when the client closed it cleanly.
      def read_request
        head = nil
        loop do
          @buffer.slice!(0, 2) while @buffer.start_with?(CRLF) # stray CRLFs between requests
          index = @buffer.index(HEAD_END)
          if index
            head = @buffer.slice!(0, index + 4)
            break
          end
          raise Error.new(431, 'Request Header Fields Too Large') if @buffer.bytesize > MAX_HEAD
          next if fill(IDLE_TIMEOUT)
          return nil if @buffer.strip.empty?

          raise Error.new(400, 'Bad Request')
        end
        raise Error.new(431, 'Request Header Fields Too Large') if head.bytesize > MAX_HEAD

        request = parse_head(head)
        request.keep_alive = keep_alive?(request)
        request.body = read_body(request)
        request
      end

      def parse_head(head)
        lines = head.split(CRLF)
        parts = lines.shift.to_s.split(' ', -1)
        raise Error.new(400, 'Bad Request') unless parts.length == 3

        method, target, version = parts
        unless TOKEN.match?(method) && !target.empty? && %w[HTTP/1.1 HTTP/1.0].include?(version)
          raise Error.new(400, 'Bad Request')
        end

        headers = lines.reject(&:empty?).map do |line|
          name, value = line.split(':', 2)
          raise Error.new(400, 'Bad Request') if value.nil? || !TOKEN.match?(name)

          [name.downcase.force_encoding(Encoding::UTF_8),
           value.strip.force_encoding(Encoding::UTF_8)]
        end
        Request.new(method.force_encoding(Encoding::UTF_8),
                    target.force_encoding(Encoding::UTF_8), version, headers)
      end

      def keep_alive?(request)
        tokens = request.header('connection').split(',').map { |t| t.strip.downcase }
        return tokens.include?('keep-alive') if request.version == 'HTTP/1.0'

        !tokens.include?('close')
      end

      def read_body(request)
        chunked = request.header('transfer-encoding').downcase.include?('chunked')
        length = request.header('content-length')
        return ''.b if !chunked && length.empty?

        if !chunked
          raise Error.new(400, 'Bad Request') unless length.match?(/\A\d+\z/)
          if length.to_i > MAX_BODY
            raise Error.new(413, "Maximum request body size #{MAX_BODY} exceeded, " \
                                 "actual body size #{length}")
          end
        end
        if request.version == 'HTTP/1.1' && request.header('expect').downcase == '100-continue'
          @io.write("HTTP/1.1 100 Continue\r\n\r\n")
        end
        chunked ? read_chunked : read_exactly(length.to_i)
      end

      def read_chunked
        body = ''.b
        loop do
          size_text = read_line.split(';', 2).first.strip
          raise Error.new(400, 'Bad Request') unless size_text.match?(/\A\h+\z/)

          size = size_text.to_i(16)
          if size.zero?
            loop { break if read_line == CRLF } # trailers are ignored
            return body
          end
          if body.bytesize + size > MAX_BODY
            raise Error.new(413, "Maximum request body size #{MAX_BODY} exceeded.")
          end

          body << read_exactly(size)
          read_exactly(2)
        end
      end
    end

    # Listen and return the server socket, once it accepts connections.
    def self.listen(socket_path: nil, host: '0.0.0.0', port: 3000)
      if socket_path.nil? || socket_path.empty?
        server = TCPServer.new(host, port)
        server.setsockopt(Socket::SOL_SOCKET, Socket::SO_REUSEADDR, true)
        server.listen(1024)
        return server
      end
      staging = "#{socket_path}.#{Process.pid}.tmp"
      File.unlink(staging) if File.exist?(staging) || File.symlink?(staging)
      server = UNIXServer.new(staging) # bound and listening
      server.listen(1024)
      File.chmod(0o666, staging)
      File.rename(staging, socket_path)
      server
    end

    # Accept forever, one thread per connection.
    def self.serve(server, app)
      tcp = server.is_a?(TCPServer)
      loop do
        client = begin
          server.accept
        rescue Errno::EINTR, Errno::ECONNABORTED, Errno::EPROTO
          next
        rescue Errno::EMFILE, Errno::ENFILE, Errno::ENOBUFS, Errno::ENOMEM
          sleep 0.05
          next
        end
        client.setsockopt(Socket::IPPROTO_TCP, Socket::TCP_NODELAY, 1) if tcp
        thread = Thread.new(client) { |io| Connection.new(io, app).serve }
        thread.report_on_exception = false
      end
    end
  end
end
