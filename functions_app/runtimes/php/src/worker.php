<?php

// A worker process of the PHP function server (src/server.php starts a pool of them). It
// reads one request at a time from the server on file descriptor 3, runs the user's function
// and writes the response back; its stdout and stderr are pipes the server reads, so every
// native output of the function (echo, print, var_dump, printf, STDOUT/STDERR, PHP warnings,
// child processes) lands in that request's logs. The entrypoint is included once per worker,
// so its state persists across the requests this worker serves.
//
// Frames, both ways: a 4-byte big-endian length, then serialize()d data. Request: method,
// target, headers ([[name, value]]), body, logId ('' when logging is disabled). Response:
// status, headers ([[name, value]]), body, and `retire` when this process must not be reused.

declare(strict_types=1);

namespace OpenRuntimes;

require_once __DIR__ . '/context.php';

final class Worker
{
    public const FUNCTION_DIR = '/usr/local/server/src/function';
    public const RETURN_MISSING = 'Return statement missing. return $context->res->empty() if no response is expected.';
    public const SIGNATURE_INVALID = "Function signature invalid. Did you forget to export a 'main' function?";
    private const FATAL = E_ERROR | E_PARSE | E_CORE_ERROR | E_COMPILE_ERROR | E_USER_ERROR | E_RECOVERABLE_ERROR;
    private const SKIPPED_HEADERS = ['content-length', 'transfer-encoding', 'connection'];

    /** @var callable|null */
    private $function = null;
    /** Why the entrypoint cannot serve, when loading it failed. */
    private ?LoadFailure $failure = null;
    private string $functionDir;
    private string $entrypoint;
    private string $logsDir;
    /** @var array<string, string> */
    private array $forcedHeaders;
    /** @var resource */
    private $channel;
    /** The request being served (its logger), so the shutdown handler can still answer it. */
    private ?Logger $current = null;
    private bool $loading = false;

    public function __construct()
    {
        $this->functionDir = \rtrim(\getenv('OPEN_RUNTIMES_FUNCTION_DIR') ?: self::FUNCTION_DIR, '/');
        $this->entrypoint = \ltrim(\getenv('OPEN_RUNTIMES_ENTRYPOINT') ?: 'index.php', '/');
        $this->logsDir = \getenv('OPEN_RUNTIMES_LOGS_DIR') ?: '/mnt/logs';
        $this->forcedHeaders = [];
        try {
            $forced = \json_decode(\getenv('OPEN_RUNTIMES_HEADERS') ?: '{}', true, 16, JSON_THROW_ON_ERROR);
        } catch (\JsonException) {
            $forced = [];
        }
        foreach (\is_array($forced) ? $forced : [] as $name => $value) {
            $this->forcedHeaders[\strtolower((string) $name)] = \is_scalar($value) ? (string) $value : \json_encode($value);
        }
        $channel = \fopen('php://fd/3', 'r+b');
        if ($channel === false) {
            throw new \RuntimeException('The worker needs the server channel on file descriptor 3.');
        }
        $this->channel = $channel;
    }

    public function run(): void
    {
        \register_shutdown_function([$this, 'shutdown']);
        // The entrypoint is loaded before the first request arrives (the server starts a worker
        // ahead of need); what it prints meanwhile goes to the first request's logs.
        $this->loading = true;
        try {
            $this->load();
        } catch (LoadFailure $failure) {
            $this->failure = $failure;
        }
        $this->loading = false;
        while (($message = $this->receive()) !== null) {
            $logger = new Logger($message['logId'], $this->logsDir);
            $this->current = $logger;
            $response = $this->handle($message, $logger);
            $this->flushNative();
            $logger->end();
            $this->current = null;
            $this->send($response);
            if ($response['retire'] ?? false) {
                return;
            }
        }
    }

    /** @return array<string, mixed>|null */
    private function receive(): ?array
    {
        $head = \stream_get_contents($this->channel, 4);
        if ($head === false || \strlen($head) < 4) {
            return null;
        }
        $length = \unpack('N', $head)[1];
        $payload = $length > 0 ? \stream_get_contents($this->channel, $length) : '';
        if ($payload === false || \strlen($payload) < $length) {
            return null;
        }
        $message = \unserialize($payload, ['allowed_classes' => false]);
        return \is_array($message) ? $message : null;
    }

    /** @param array<string, mixed> $response */
    private function send(array $response): void
    {
        $payload = \serialize($response);
        $frame = \pack('N', \strlen($payload)) . $payload;
        for ($written = 0; $written < \strlen($frame); $written += $count) {
            $count = @\fwrite($this->channel, \substr($frame, $written, 1 << 20));
            if ($count === false || $count === 0) {
                exit(1);
            }
        }
        \fflush($this->channel);
    }

    /** Output the function buffered with ob_start() but never flushed goes out before the answer. */
    private function flushNative(): void
    {
        while (\ob_get_level() > 0) {
            if (!@\ob_end_flush()) {
                break;
            }
        }
        @\fflush(\STDOUT);
        @\fflush(\STDERR);
    }

    /** @param array<string, mixed> $message @return array<string, mixed> */
    private function handle(array $message, Logger $logger): array
    {
        $context = new \RuntimeContext($logger);
        $this->fillRequest($context->req, $message);
        $function = $this->function;
        if ($function === null) {
            $logger->write([$this->failure?->getMessage() ?? self::SIGNATURE_INVALID], Logger::TYPE_ERROR);
            // A fresh process for the next try: a half-run include must not be run twice.
            return ['status' => 503, 'headers' => [['content-type', 'text/plain; charset=utf-8']], 'body' => '', 'retire' => true];
        }
        try {
            $output = $function($context);
        } catch (\Throwable $error) {
            $context->error(Errors::describe($error));
            return self::plainError(500);
        }
        if ($output === null) {
            $context->error(self::RETURN_MISSING);
            return self::plainError(500);
        }
        try {
            return self::normalise($output);
        } catch (InvalidResponse $error) {
            $context->error($error->getMessage());
        } catch (\Throwable $error) {
            $context->error(Errors::describe($error));
        }
        return self::plainError(500);
    }

    /** @return array<string, mixed> */
    private static function plainError(int $status): array
    {
        return ['status' => $status, 'headers' => [['content-type', 'text/plain; charset=utf-8']], 'body' => ''];
    }

    /** The entrypoint's callable, included once (with vendor/autoload.php first when the build made one). */
    private function load(): void
    {
        $file = $this->functionDir . '/' . $this->entrypoint;
        if (!\is_file($file)) {
            throw new LoadFailure('Failed to load entrypoint, file ' . $this->entrypoint . ' does not exist.');
        }
        try {
            $autoload = $this->functionDir . '/vendor/autoload.php';
            if (\is_file($autoload)) {
                require_once $autoload;
            }
            $loaded = self::includeFile($file);
        } catch (\ParseError $error) {
            throw new LoadFailure('Syntax error in ' . $error->getFile() . ':' . $error->getLine() . ': ' . $error->getMessage());
        } catch (\Throwable $error) {
            throw new LoadFailure('Failed to load module: ' . Errors::describe($error));
        }
        if (!\is_callable($loaded)) {
            throw new LoadFailure(self::SIGNATURE_INVALID);
        }
        $this->function = $loaded;
    }

    /** include in a scope of its own: no $this, no server variables. */
    private static function includeFile(string $file): mixed
    {
        return (static function () {
            return include \func_get_arg(0);
        })($file);
    }

    /** @param array<string, mixed> $message */
    private function fillRequest(\RuntimeRequest $req, array $message): void
    {
        [$path, $queryString] = \array_pad(\explode('?', (string) $message['target'], 2), 2, '');
        $headers = [];
        foreach ($message['headers'] as [$name, $value]) {
            if (!\str_starts_with($name, 'x-open-runtimes-') && !isset($headers[$name])) {
                $headers[$name] = $value;
            }
        }
        foreach ($this->forcedHeaders as $name => $value) {
            $headers[$name] = $value;
        }
        $scheme = $headers['x-forwarded-proto'] ?? 'http';
        $defaultPort = $scheme === 'https' ? 443 : 80;
        [$host, $port] = self::splitHost($headers['host'] ?? '');
        $port = \preg_match('/\A[0-9]{1,5}\z/', $port) === 1 ? (int) $port : $defaultPort;
        $query = [];
        foreach (\explode('&', $queryString) as $param) {
            $pair = \explode('=', $param, 2);
            if ($pair[0] !== '') {
                $query[$pair[0]] = $pair[1] ?? '';
            }
        }
        $url = $scheme . '://' . $host . ($port !== $defaultPort ? ':' . $port : '') . $path;
        if ($queryString !== '') {
            $url .= '?' . $queryString;
        }
        $req->bodyBinary = (string) $message['body'];
        $req->headers = $headers;
        $req->method = (string) $message['method'];
        $req->url = $url;
        $req->path = $path;
        $req->port = $port;
        $req->host = $host;
        $req->scheme = $scheme;
        $req->queryString = $queryString;
        $req->query = $query;
    }

    /** @return array{0: string, 1: string} host (an IPv6 literal keeps its brackets) and port text */
    private static function splitHost(string $value): array
    {
        if (\str_starts_with($value, '[') && ($close = \strpos($value, ']')) !== false) {
            $rest = \substr($value, $close + 1);
            return [\substr($value, 0, $close + 1), \str_starts_with($rest, ':') ? \substr($rest, 1) : ''];
        }
        $pair = \explode(':', $value, 2);
        return [$pair[0], $pair[1] ?? ''];
    }

    /**
     * The function's ['body', 'statusCode', 'headers'] as status, [[name, value]] and bytes:
     * names lower-cased, x-open-runtimes-* dropped, the content type lower-cased with
     * `; charset=utf-8` unless multipart or already given. A list value repeats the header.
     *
     * @return array<string, mixed>
     */
    public static function normalise(mixed $output): array
    {
        if (\is_object($output) && !($output instanceof \ArrayAccess)) {
            $output = \get_object_vars($output);
        }
        if (!\is_array($output) && !($output instanceof \ArrayAccess)) {
            throw new InvalidResponse('The function returned ' . \get_debug_type($output) . '; return one of the $context->res->* results.');
        }
        $status = $output['statusCode'] ?? 200;
        if (!\is_int($status) && !(\is_string($status) && \preg_match('/\A[0-9]{1,3}\z/', $status) === 1)) {
            throw new InvalidResponse('Invalid response status code: ' . \var_export($status, true));
        }
        $status = (int) $status;
        if ($status < 100 || $status > 999) {
            throw new InvalidResponse('Invalid response status code: ' . $status);
        }
        $body = $output['body'] ?? '';
        if (\is_array($body) || (\is_object($body) && !($body instanceof \Stringable))) {
            $body = \RuntimeResponse::encode($body);
        } elseif (\is_bool($body)) {
            $body = $body ? 'true' : 'false';
        }
        $headers = [];
        $contentType = 'text/plain';
        foreach ($output['headers'] ?? [] as $key => $value) {
            $name = \strtolower((string) $key);
            if (\str_starts_with($name, 'x-open-runtimes-') || \in_array($name, self::SKIPPED_HEADERS, true)) {
                continue;
            }
            if ($name === 'content-type') {
                $contentType = self::headerValue(\is_array($value) ? \end($value) : $value);
                continue;
            }
            if (\preg_match('/\A[!#$%&\'*+\-.^_`|~0-9a-z]+\z/', $name) !== 1) {
                throw new InvalidResponse('Invalid response header name: ' . \var_export($key, true));
            }
            foreach (\is_array($value) ? $value : [$value] as $item) {
                $headers[] = [$name, self::headerValue($item)];
            }
        }
        $contentType = \strtolower($contentType);
        if (!\str_starts_with($contentType, 'multipart/') && !\str_contains($contentType, 'charset=')) {
            $contentType .= '; charset=utf-8';
        }
        \array_unshift($headers, ['content-type', $contentType]);
        return ['status' => $status, 'headers' => $headers, 'body' => (string) $body];
    }

    private static function headerValue(mixed $value): string
    {
        $text = \is_bool($value) ? ($value ? 'true' : 'false') : (string) $value;
        if (\strpbrk($text, "\r\n\0") !== false) {
            throw new InvalidResponse('Invalid response header value: ' . \var_export($text, true));
        }
        return $text;
    }

    /**
     * The process is ending while a request is open: exit() or die() in the function, or a
     * fatal error (a parse error in a file it includes, a redeclared class, ...). Answer it
     * (500, the reason in its errors), since nothing else will.
     */
    public function shutdown(): void
    {
        $logger = $this->current;
        $error = \error_get_last();
        $fatal = $error !== null && ($error['type'] & self::FATAL) !== 0;
        if ($logger === null) {
            if ($this->loading) { // stderr: the first request's logs
                $this->flushNative();
                \fwrite(\STDERR, "\nThe entrypoint ended the PHP process while it was loading (" . ($fatal ? 'a fatal error' : 'exit() or die()') . ").\n");
            }
            return;
        }
        $this->current = null;
        if ($fatal) {
            $text = \sprintf('PHP Fatal error: %s in %s:%d', $error['message'], $error['file'], $error['line']);
        } else {
            $text = 'The function ended the PHP process (exit() or die()) before it returned a response.';
        }
        $this->flushNative();
        $logger->write([$text], Logger::TYPE_ERROR);
        $logger->end();
        $this->send(self::plainError(500) + ['retire' => true]);
    }
}

/** The entrypoint cannot serve: answered 503 with this message in the errors. */
final class LoadFailure extends \Exception
{
}

/** What the function returned cannot be sent: answered 500 with this message in the errors. */
final class InvalidResponse extends \Exception
{
}

/**
 * PHP's http(s):// stream wrappers (file_get_contents, fopen, ... on a URL) ignore the proxy
 * variables (curl, Guzzle and Appwrite's SDK honour them): their default context goes through
 * the egress proxy too. It cannot honour NO_PROXY per host, and a call with a context of its
 * own does not use it.
 */
function proxyStreams(): void
{
    $raw = \getenv('HTTPS_PROXY') ?: \getenv('https_proxy') ?: \getenv('HTTP_PROXY') ?: \getenv('http_proxy');
    $proxy = $raw ? \parse_url($raw) : false;
    if (!\is_array($proxy) || !isset($proxy['host'])) {
        return;
    }
    $options = ['proxy' => 'tcp://' . $proxy['host'] . ':' . ($proxy['port'] ?? 80), 'request_fulluri' => true];
    if (isset($proxy['user'])) {
        $credentials = \rawurldecode($proxy['user']) . ':' . \rawurldecode($proxy['pass'] ?? '');
        $options['header'] = ['Proxy-Authorization: Basic ' . \base64_encode($credentials)];
    }
    \stream_context_set_default(['http' => $options]);
}

\error_reporting(E_ALL);
proxyStreams();
(new Worker())->run();
