<?php

// The Open Runtimes v5 `$context` given to the user's function (`return function ($context)
// { ... };`): `req`, `res`, `log()` and `error()`. The three classes keep open-runtimes' global
// names (RuntimeContext, RuntimeRequest, RuntimeResponse), so type hints written for Appwrite
// still resolve; everything else of the server lives in the OpenRuntimes namespace, so a
// function may declare its own `Logger` class.

declare(strict_types=1);

namespace OpenRuntimes {
    /**
     * The logger of one request: `<id>_logs.log` and `<id>_errors.log` in the logs directory,
     * opened on first write (a request that logs nothing leaves no files). The worker writes
     * the function's lines; the server process appends native output and its own errors
     * (timeouts) with a Logger of the same id once the worker is done.
     */
    final class Logger
    {
        public const TYPE_LOG = 'log';
        public const TYPE_ERROR = 'error';
        public const NATIVE_NOTICE = 'Native logs detected. Use context.log() or context.error() for better experience.';

        public readonly string $id;
        private bool $enabled;
        /** @var array<string, resource> */
        private array $streams = [];

        public function __construct(string $id, private readonly string $directory)
        {
            $this->enabled = $id !== '';
            $this->id = $id;
        }

        /** @param array<mixed> $messages */
        public function write(array $messages, string $type = self::TYPE_LOG): void
        {
            if ($this->enabled) {
                $this->append($type, Format::messages($messages) . "\n");
            }
        }

        /** Native output (echo, print, var_dump, STDOUT/STDERR) after the notice, cut as one message. */
        public function native(string $text): void
        {
            if ($this->enabled && $text !== '') {
                $text = Format::truncate($text);
                $this->append(self::TYPE_LOG, self::NATIVE_NOTICE . "\n" . $text . (\str_ends_with($text, "\n") ? '' : "\n"));
            }
        }

        /** Raw text into the log or error file; a failed write never fails the execution. */
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
                // ignored: see above
            }
        }

        public function end(): void
        {
            $this->enabled = false;
            foreach ($this->streams as $stream) {
                @\fclose($stream);
            }
            $this->streams = [];
        }
    }

    /** How `log()` and `error()` write their arguments. */
    final class Format
    {
        public const LIMIT = 8000;
        public const TRUNCATED = '... Log truncated due to size limit (8000 characters)';
        private const MAX_DEPTH = 64;
        private const JSON_FLAGS = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION
            | JSON_INVALID_UTF8_SUBSTITUTE | JSON_PARTIAL_OUTPUT_ON_ERROR;

        /** Space-joined, cut at 8000 characters with the truncation suffix. @param array<mixed> $messages */
        public static function messages(array $messages): string
        {
            return self::truncate(\implode(' ', \array_map([self::class, 'one'], $messages)));
        }

        public static function truncate(string $text): string
        {
            if (\strlen($text) <= self::LIMIT) {
                return $text;
            }
            // Characters when the text is UTF-8 (as the other runtimes count), bytes otherwise.
            if (\preg_match('/\A.{' . self::LIMIT . '}/su', $text, $match) === 1) {
                return \strlen($match[0]) < \strlen($text) ? $match[0] . self::TRUNCATED : $text;
            }
            if (\preg_match('//u', $text) === 1) {
                return $text; // valid UTF-8 of at most 8000 characters
            }
            return \substr($text, 0, self::LIMIT) . self::TRUNCATED;
        }

        /** Strings as they are, scalars as PHP writes them (but true/false/null as words), errors with their trace, everything else as JSON. */
        public static function one(mixed $message): string
        {
            return match (true) {
                \is_string($message) => $message,
                $message === null => 'null',
                \is_bool($message) => $message ? 'true' : 'false',
                \is_int($message), \is_float($message) => self::number($message),
                $message instanceof \Throwable => Errors::describe($message),
                \is_object($message) && $message instanceof \Stringable && !($message instanceof \JsonSerializable) => (string) $message,
                default => self::json($message),
            };
        }

        public static function json(mixed $value): string
        {
            $json = \json_encode(self::plain($value, 0, []), self::JSON_FLAGS);
            return $json === false ? \print_r($value, true) : $json;
        }

        private static function number(int|float $value): string
        {
            return \is_float($value) && !\is_finite($value) ? (\is_nan($value) ? 'NAN' : ($value > 0 ? 'INF' : '-INF')) : (string) $value;
        }

        /**
         * A structure JSON can hold, with PHP's own kinds written readably: enums as their value
         * (or Class::Case), dates as ISO 8601, closures and resources by name, ArrayObject and
         * other SPL containers as lists or maps, objects as their public properties.
         *
         * @param array<int, true> $path object ids on the way down (recursion guard)
         */
        private static function plain(mixed $value, int $depth, array $path): mixed
        {
            if (\is_float($value)) {
                return \is_finite($value) ? $value : self::number($value);
            }
            if ($value === null || \is_scalar($value)) {
                return $value;
            }
            if ($depth >= self::MAX_DEPTH) {
                return '...';
            }
            if (\is_array($value)) {
                $out = [];
                foreach ($value as $key => $item) {
                    $out[$key] = self::plain($item, $depth + 1, $path);
                }
                return $out;
            }
            if (\is_resource($value) || \gettype($value) === 'resource (closed)') {
                return \is_resource($value) ? 'resource(' . \get_resource_type($value) . ')' : 'resource(closed)';
            }
            if (!\is_object($value)) {
                return \get_debug_type($value);
            }
            $id = \spl_object_id($value);
            if (isset($path[$id])) {
                return '*RECURSION*';
            }
            $path[$id] = true;
            try {
                return match (true) {
                    $value instanceof \BackedEnum => $value->value,
                    $value instanceof \UnitEnum => $value::class . '::' . $value->name,
                    $value instanceof \DateTimeInterface => $value->format('Y-m-d\TH:i:s.vP'),
                    $value instanceof \DateTimeZone => $value->getName(),
                    $value instanceof \DateInterval => $value->format('P%yY%mM%dDT%hH%iM%sS'),
                    $value instanceof \Throwable => Errors::describe($value),
                    $value instanceof \Closure => 'Closure',
                    $value instanceof \JsonSerializable => self::plain($value->jsonSerialize(), $depth + 1, $path),
                    $value instanceof \Stringable => (string) $value,
                    $value instanceof \SplObjectStorage => self::plain(\iterator_to_array($value, false), $depth + 1, $path),
                    $value instanceof \ArrayObject, $value instanceof \ArrayIterator => self::plainMap($value->getArrayCopy(), $depth, $path),
                    $value instanceof \SplFixedArray => self::plain($value->toArray(), $depth + 1, $path),
                    $value instanceof \SplDoublyLinkedList, $value instanceof \SplHeap, $value instanceof \SplPriorityQueue => self::plain(\iterator_to_array(clone $value, false), $depth + 1, $path),
                    default => self::plainMap(\get_object_vars($value), $depth, $path),
                };
            } catch (\Throwable $error) {
                return $value::class . ' (' . $error->getMessage() . ')';
            }
        }

        /** @param array<mixed> $items @param array<int, true> $path */
        private static function plainMap(array $items, int $depth, array $path): object
        {
            $out = new \stdClass();
            foreach ($items as $key => $item) {
                $out->{$key} = self::plain($item, $depth + 1, $path);
            }
            return $out;
        }
    }

    /** Error text: the class, message and place, then the trace without the server's own frames. */
    final class Errors
    {
        public static function describe(\Throwable $error): string
        {
            $parts = [];
            $seen = [];
            for ($current = $error; $current !== null && !isset($seen[\spl_object_id($current)]); $current = $current->getPrevious()) {
                $seen[\spl_object_id($current)] = true;
                $lines = [\sprintf('%s: %s in %s:%d', $current::class, $current->getMessage(), $current->getFile(), $current->getLine()), 'Stack trace:'];
                $number = 0;
                foreach ($current->getTrace() as $frame) {
                    if (isset($frame['file']) && self::isServerFile($frame['file'])) {
                        break; // the server called the function here: the rest is ours
                    }
                    $where = isset($frame['file']) ? $frame['file'] . '(' . ($frame['line'] ?? 0) . ')' : '[internal function]';
                    $call = ($frame['class'] ?? '') . ($frame['type'] ?? '') . $frame['function'] . '()';
                    $lines[] = '#' . $number++ . ' ' . $where . ': ' . $call;
                }
                $lines[] = '#' . $number . ' {main}';
                $parts[] = \implode("\n", $lines);
            }
            return \implode("\n\nNext ", $parts);
        }

        private static function isServerFile(string $file): bool
        {
            return \str_starts_with($file, \dirname(__FILE__) . '/') && !\str_starts_with($file, \dirname(__FILE__) . '/function/');
        }
    }
}

namespace {
    use OpenRuntimes\Logger;

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

        /** The computed bodies; any other unknown property reads as '' (as upstream). */
        public function __get(string $name): mixed
        {
            return match ($name) {
                'body' => $this->getBody(),
                'bodyRaw', 'bodyText' => $this->getBodyText(),
                'bodyJson' => $this->getBodyJson(),
                default => '',
            };
        }

        public function __isset(string $name): bool
        {
            return \in_array($name, ['body', 'bodyRaw', 'bodyText', 'bodyJson'], true);
        }

        /** PHP strings are bytes: the text is the body as it came. */
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

        /** The decoded JSON body (objects as associative arrays); throws \JsonException when it is not JSON. */
        public function getBodyJson(): mixed
        {
            return \json_decode($this->bodyBinary, true, 512, JSON_THROW_ON_ERROR);
        }

        /** Deprecated v5 `body`: JSON for application/json (an empty body gives []), otherwise the text. */
        public function getBody(): mixed
        {
            $type = \strtolower($this->headers['content-type'] ?? 'text/plain');
            if (\str_starts_with($type, 'application/json')) {
                return $this->bodyBinary === '' ? [] : $this->getBodyJson();
            }
            return $this->getBodyText();
        }
    }

    /** Each method returns ['body' => ..., 'statusCode' => ..., 'headers' => [...]]. */
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

        /** Deprecated v5 `send`: strings as they are, arrays and objects as JSON. @param array<string, mixed> $headers */
        public function send(mixed $body, int $statusCode = 200, array $headers = []): array
        {
            if (\is_array($body) || (\is_object($body) && !($body instanceof \Stringable))) {
                $body = self::encode($body);
            } elseif (\is_bool($body)) {
                $body = $body ? 'true' : 'false';
            }
            return $this->text((string) $body, $statusCode, $headers);
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

        /** JSON text. An empty array is `{}` (as upstream's JSON_FORCE_OBJECT gave), lists stay lists. */
        public static function encode(mixed $value): string
        {
            if ($value === []) {
                return '{}';
            }
            return \json_encode($value, JSON_THROW_ON_ERROR | JSON_PRESERVE_ZERO_FRACTION);
        }
    }

    class RuntimeContext
    {
        public RuntimeRequest $req;
        public RuntimeResponse $res;

        public function __construct(private Logger $logger)
        {
            $this->req = new RuntimeRequest();
            $this->res = new RuntimeResponse();
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
}
