<?php
// The Open Runtimes v5 `$context` given to the user's function: `req`, `res`, `log()` and
// `error()`, plus the per-request Logger. Names follow open-runtimes' PHP runtime.

declare(strict_types=1);

final class Logger
{
    public const TYPE_LOG = 'log';
    public const TYPE_ERROR = 'error';
    public const LIMIT = 8000;
    public const TRUNCATED = '... Log truncated due to size limit (8000 characters)';
    public const NATIVE_NOTICE = 'Native logs detected. Use context.log() or context.error() for better experience.';

    public string $id;
    private bool $enabled;
    private bool $includesNativeInfo = false;
    private string $directory;
    /** @var array<string, resource> */
    private array $streams = [];

    /** The id and the enabled flag come from the server (it validated the log-id header). */
    public function __construct(bool $enabled, string $id, string $directory)
    {
        $this->enabled = $enabled && $id !== '';
        $this->id = $this->enabled ? $id : '';
        $this->directory = $directory;
    }

    public static function generateId(int $padding = 7): string
    {
        return \uniqid() . \substr(\bin2hex(\random_bytes(4)), 0, $padding);
    }

    public static function formatOne(mixed $message): string
    {
        if (\is_string($message)) {
            return $message;
        }
        if ($message === null) {
            return 'null';
        }
        if (\is_bool($message)) {
            return $message ? 'true' : 'false';
        }
        if (\is_int($message) || \is_float($message)) {
            return (string) $message;
        }
        if ($message instanceof \Throwable) {
            return (string) $message;
        }
        if (\is_object($message) && $message instanceof \Stringable && !($message instanceof \JsonSerializable)) {
            return (string) $message;
        }
        if (\is_array($message) || \is_object($message)) {
            $flags = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE
                | JSON_PARTIAL_OUTPUT_ON_ERROR | JSON_PRESERVE_ZERO_FRACTION;
            try {
                $json = \json_encode($message, $flags);
            } catch (\Throwable) {
                $json = false;
            }
            return $json === false ? \print_r($message, true) : $json;
        }
        return \get_debug_type($message);
    }

    /** @param array<mixed> $messages */
    public static function format(array $messages): string
    {
        $text = \implode(' ', \array_map([self::class, 'formatOne'], $messages));
        if (\strlen($text) > self::LIMIT) {
            $cut = \function_exists('mb_substr') ? \mb_substr($text, 0, self::LIMIT, 'UTF-8') : \substr($text, 0, self::LIMIT);
            if ($cut !== $text) {
                $text = $cut . self::TRUNCATED;
            }
        }
        return $text;
    }

    /** @param array<mixed> $messages */
    public function write(array $messages, string $type = self::TYPE_LOG, bool $isNative = false): void
    {
        if (!$this->enabled) {
            return;
        }
        if ($isNative && !$this->includesNativeInfo) {
            $this->includesNativeInfo = true;
            $this->write([self::NATIVE_NOTICE]);
        }
        $this->append($type, self::format($messages) . "\n");
    }

    /** Raw text into the log or error file (no formatting); failures are swallowed. */
    public function append(string $type, string $text): void
    {
        if (!$this->enabled) {
            return;
        }
        $kind = $type === self::TYPE_ERROR ? 'errors' : 'logs';
        try {
            if (!isset($this->streams[$kind])) {
                $stream = @\fopen($this->directory . '/' . $this->id . '_' . $kind . '.log', 'ab');
                if ($stream === false) {
                    return;
                }
                $this->streams[$kind] = $stream;
            }
            @\fwrite($this->streams[$kind], $text);
        } catch (\Throwable) {
            // a failed log write must never fail the execution
        }
    }

    public function end(): void
    {
        if (!$this->enabled) {
            return;
        }
        $this->enabled = false;
        foreach ($this->streams as $stream) {
            @\fclose($stream);
        }
        $this->streams = [];
    }
}

/**
 * `bodyBinary`, `headers`, `method`, `url`, `path`, `port`, `host`, `scheme`, `queryString`
 * and `query` are properties; `body`, `bodyRaw`, `bodyText` and `bodyJson` are computed.
 *
 * @property-read mixed $body
 * @property-read string $bodyRaw
 * @property-read string $bodyText
 * @property-read mixed $bodyJson
 */
class RuntimeRequest
{
    public string $bodyBinary = '';
    /** @var array<string, string> */
    public array $headers = [];
    public string $method = '';
    public string $url = '';
    public string $path = '/';
    public int $port = 80;
    public string $host = '';
    public string $scheme = 'http';
    public string $queryString = '';
    /** @var array<string, string> */
    public array $query = [];

    private const COMPUTED = ['body', 'bodyRaw', 'bodyText', 'bodyJson'];

    public function __get(string $name): mixed
    {
        return match ($name) {
            'body' => $this->getBody(),
            'bodyRaw', 'bodyText' => $this->getBodyText(),
            'bodyJson' => $this->getBodyJson(),
            default => throw new \Error('Undefined property: RuntimeRequest::$' . $name),
        };
    }

    public function __isset(string $name): bool
    {
        return \in_array($name, self::COMPUTED, true);
    }

    public function getBodyText(): string
    {
        return $this->bodyBinary;
    }

    public function getBodyRaw(): string
    {
        return $this->bodyBinary;
    }

    public function getBodyBinary(): string
    {
        return $this->bodyBinary;
    }

    /** The decoded JSON body (objects as associative arrays); throws \JsonException. */
    public function getBodyJson(): mixed
    {
        return \json_decode($this->bodyBinary, true, 512, JSON_THROW_ON_ERROR);
    }

    /** Deprecated v5 `body`: JSON for application/json (an empty body gives []), the bytes. */
    public function getBody(): mixed
    {
        $type = \strtolower($this->headers['content-type'] ?? 'text/plain');
        if (\str_starts_with($type, 'application/json')) {
            return $this->bodyBinary === '' ? [] : $this->getBodyJson();
        }
        return $this->bodyBinary;
    }
}

class RuntimeResponse
{
    /** @param array<string, mixed> $headers */
    public function binary(string $bytes, int $statusCode = 200, array $headers = []): array
    {
        return ['body' => $bytes, 'statusCode' => $statusCode, 'headers' => $headers];
    }

    /** @param array<string, mixed> $headers */
    public function text(string $body, int $statusCode = 200, array $headers = []): array
    {
        return $this->binary($body, $statusCode, $headers);
    }

    /** Deprecated v5 `send`: strings as they are, arrays and objects as JSON. */
    public function send(mixed $body, int $statusCode = 200, array $headers = []): array
    {
        if (\is_array($body) || \is_object($body) && !($body instanceof \Stringable)) {
            $body = self::encode($body);
        }
        return $this->text(\is_bool($body) ? ($body ? 'true' : 'false') : (string) $body, $statusCode, $headers);
    }

    /** @param array<string, mixed> $headers */
    public function json(mixed $obj, int $statusCode = 200, array $headers = []): array
    {
        $headers['content-type'] = 'application/json';
        return $this->text(self::encode($obj), $statusCode, $headers);
    }

    public function empty(): array
    {
        return $this->text('', 204, []);
    }

    /** @param array<string, mixed> $headers */
    public function redirect(string $url, int $statusCode = 301, array $headers = []): array
    {
        $headers['location'] = $url;
        return $this->text('', $statusCode, $headers);
    }

    /** JSON text; an empty array is an empty object, as upstream's JSON_FORCE_OBJECT gave. */
    public static function encode(mixed $value): string
    {
        if ($value === []) {
            return '{}';
        }
        return \json_encode($value, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
    }
}

class RuntimeContext
{
    public RuntimeRequest $req;
    public RuntimeResponse $res;
    private Logger $logger;

    public function __construct(Logger $logger)
    {
        $this->req = new RuntimeRequest();
        $this->res = new RuntimeResponse();
        $this->logger = $logger;
    }

    public function log(mixed ...$messages): void
    {
        $this->logger->write($messages, Logger::TYPE_LOG);
    }

    public function error(mixed ...$messages): void
    {
        $this->logger->write($messages, Logger::TYPE_ERROR);
    }
}
