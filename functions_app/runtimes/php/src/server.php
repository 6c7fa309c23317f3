<?php

// Open Runtimes v5 function server for PHP, standard library only: it runs without php.ini
// and extensions (helpers/server.sh: `php -n`, only pcntl, built into php-cli, and sockets
// for TCP_NODELAY), so it starts fast; the workers get Debian's extensions and src/php.ini.
//
// One server process speaks HTTP/1.1 (keep-alive, Content-Length and chunked request bodies,
// `Expect: 100-continue`, 413 above 20 MB, each response in one write) on a stream_select()
// loop, answers /__opr/health and /__opr/timings itself, checks the secret and the timeout
// header, and hands each function request to a pool of worker processes (src/worker.php,
// one request at a time each, grown on demand up to OPEN_RUNTIMES_WORKERS, extra ones retired
// when idle). A worker keeps the entrypoint loaded, so its state persists across the requests
// it serves. The soft timeout is the server's: when it expires, the worker is killed (PHP
// cannot interrupt a blocking call in-process), the request answers 500 "Execution timed
// out." and a fresh worker replaces it. A worker's stdout and stderr are pipes read here:
// they are the request's native logs. Listens on the Unix socket OPEN_RUNTIMES_SOCKET when
// set (bound under a temporary name, listening, chmod 0666, then renamed), else on TCP port
// OPEN_RUNTIMES_PORT (3000).

declare(strict_types=1);

namespace OpenRuntimes;

require_once __DIR__ . '/context.php';

const MAX_HEAD = 64 * 1024;
const MAX_BODY = 20 * 1024 * 1024;
const READ_SIZE = 1 << 20;
const IDLE_TIMEOUT = 75.0;          // a keep-alive connection with no request
const READ_TIMEOUT = 300.0;         // a request that stopped arriving half-way
const WORKER_IDLE = 60.0;           // an extra idle worker is retired after this
const NATIVE_KEEP = 64 * 1024;      // bytes of native output kept per request (cut to 8000 characters)
const MAX_CONNECTIONS = 512;        // beyond this, new connections wait in the listen backlog (select() stays under FD_SETSIZE)
const TEXT_PLAIN = 'text/plain; charset=utf-8';
const SECRET_ERROR = 'Unauthorized. Provide correct "x-open-runtimes-secret" header.';
const TIMEOUT_ERROR = 'Header "x-open-runtimes-timeout" must be an integer greater than 0.';
const TIMED_OUT = 'Execution timed out.';
const LOG_ID_PATTERN = '/\A[A-Za-z0-9_-]{1,128}\z/';
const TOKEN_PATTERN = '/\A[!#$%&\'*+\-.^_`|~0-9A-Za-z]+\z/';
const REASONS = [
    100 => 'Continue', 200 => 'OK', 201 => 'Created', 202 => 'Accepted', 204 => 'No Content',
    206 => 'Partial Content', 301 => 'Moved Permanently', 302 => 'Found', 303 => 'See Other',
    304 => 'Not Modified', 307 => 'Temporary Redirect', 308 => 'Permanent Redirect',
    400 => 'Bad Request', 401 => 'Unauthorized', 403 => 'Forbidden', 404 => 'Not Found',
    405 => 'Method Not Allowed', 408 => 'Request Timeout', 409 => 'Conflict', 410 => 'Gone',
    413 => 'Payload Too Large', 415 => 'Unsupported Media Type', 418 => "I'm a Teapot",
    422 => 'Unprocessable Entity', 429 => 'Too Many Requests',
    431 => 'Request Header Fields Too Large', 500 => 'Internal Server Error',
    501 => 'Not Implemented', 502 => 'Bad Gateway', 503 => 'Service Unavailable',
    504 => 'Gateway Timeout',
];

/** A request the server rejects before any function sees it (the connection is closed after). */
final class HttpError extends \Exception
{
    public function __construct(public readonly int $status, string $message)
    {
        parent::__construct($message);
    }
}

final class Connection
{
    public string $in = '';
    public string $out = '';
    /** @var array<string, mixed>|null the request whose head has been read */
    public ?array $request = null;
    public string $body = '';
    public bool $chunked = false;
    public int $remaining = 0;     // body bytes still expected (Content-Length), or of the current chunk
    public string $chunkState = 'size';
    public bool $busy = false;     // a response is pending (the request is with a worker)
    public bool $closing = false;  // close once `out` is written
    public float $last;

    /** @param resource $stream */
    public function __construct(public $stream, public readonly bool $tcp)
    {
        $this->last = \microtime(true);
    }
}

final class Job
{
    public ?WorkerProcess $worker = null;
    public string $native = '';

    public function __construct(
        public ?Connection $connection,
        public readonly string $frame,
        public readonly string $logId,
        public readonly ?float $deadline,
        public readonly bool $head,
        public readonly bool $keepAlive,
    ) {
    }

    public function addNative(string $text): void
    {
        if (\strlen($this->native) < NATIVE_KEEP) {
            $this->native .= \substr($text, 0, NATIVE_KEEP - \strlen($this->native));
        }
    }
}

final class WorkerProcess
{
    public string $in = '';        // frames from the worker
    public string $out = '';       // frames to the worker
    public ?Job $job = null;
    public float $idleSince;
    public bool $retire = false;
    public bool $served = false;   // it has been given a request
    public bool $silent = false;   // its output pipe reached its end
    public string $early = '';     // what it printed before that (loading the entrypoint)

    /** @param resource $process @param resource $channel @param resource $output */
    public function __construct(public $process, public $channel, public $output)
    {
        $this->idleSince = \microtime(true);
    }
}

final class Server
{
    /** @var resource */
    private $listener;
    private bool $tcp;
    private string $secret;
    private bool $development;
    private string $logsDir;
    private int $maxWorkers;
    /** @var list<string> */
    private array $workerCommand;
    /** @var array<int, Connection> */
    private array $connections = [];
    /** @var array<int, WorkerProcess> */
    private array $workers = [];
    /** @var list<Job> waiting for a worker */
    private array $queue = [];
    /** @var array<int, Job> running or waiting, with a deadline */
    private array $timed = [];
    private bool $canNoDelay;
    private float $lastCheck = 0.0;

    public function __construct(private readonly string $socketPath, private readonly int $port)
    {
        $this->secret = (string) \getenv('OPEN_RUNTIMES_SECRET');
        $this->development = \getenv('OPEN_RUNTIMES_ENV') === 'development';
        $this->logsDir = \getenv('OPEN_RUNTIMES_LOGS_DIR') ?: '/mnt/logs';
        $this->maxWorkers = self::workerLimit();
        $this->canNoDelay = \function_exists('socket_import_stream') && \defined('TCP_NODELAY');
        // The worker starts from bash, which first closes every descriptor above 3 that it
        // inherited from this process (PHP cannot mark them close-on-exec): listening socket,
        // client connections, other workers' channels.
        $php = \escapeshellarg(PHP_BINARY) . ' -c ' . \escapeshellarg(__DIR__ . '/php.ini')
            . ' ' . \escapeshellarg(__DIR__ . '/worker.php');
        $this->workerCommand = [
            '/bin/bash', '-c',
            'for fd in /proc/$$/fd/*; do fd=${fd##*/}; if (( fd > 3 )) && [ -L "/proc/$$/fd/$fd" ]; then exec {fd}>&-; fi; done; exec ' . $php,
        ];
    }

    /** OPEN_RUNTIMES_WORKERS, else one per 64 MB of OPEN_RUNTIMES_MEMORY, between 4 and 16. */
    private static function workerLimit(): int
    {
        $set = (int) \getenv('OPEN_RUNTIMES_WORKERS');
        if ($set > 0) {
            return $set;
        }
        $memory = (int) \getenv('OPEN_RUNTIMES_MEMORY');
        return $memory > 0 ? \max(4, \min(16, \intdiv($memory, 64))) : 8;
    }

    public function listen(): void
    {
        $context = \stream_context_create(['socket' => ['backlog' => 1024]]);
        if ($this->socketPath === '') {
            $this->tcp = true;
            $address = 'tcp://0.0.0.0:' . $this->port;
        } else {
            $this->tcp = false;
            $staging = $this->socketPath . '.' . \getmypid() . '.tmp';
            if (\file_exists($staging) || \is_link($staging)) {
                \unlink($staging);
            }
            $address = 'unix://' . $staging;
        }
        $listener = \stream_socket_server($address, $errno, $error, STREAM_SERVER_BIND | STREAM_SERVER_LISTEN, $context);
        if ($listener === false) {
            \fwrite(STDERR, "Could not listen on {$address}: {$error}\n");
            exit(1);
        }
        if (!$this->tcp) {
            \chmod($staging, 0666);
            \rename($staging, $this->socketPath); // the path appearing means the server accepts
        }
        \stream_set_blocking($listener, false);
        $this->listener = $listener;
    }

    public function stop(): never
    {
        if ($this->socketPath !== '') {
            @\unlink($this->socketPath);
        }
        foreach ($this->workers as $worker) {
            @\proc_terminate($worker->process, 9);
        }
        exit(0);
    }

    public function serve(): never
    {
        while (true) {
            $read = \count($this->connections) < MAX_CONNECTIONS ? [$this->listener] : [];
            $write = [];
            foreach ($this->connections as $connection) {
                $read[] = $connection->stream;
                if ($connection->out !== '') {
                    $write[] = $connection->stream;
                }
            }
            foreach ($this->workers as $worker) {
                $read[] = $worker->channel;
                if (!$worker->silent) {
                    $read[] = $worker->output;
                }
                if ($worker->out !== '') {
                    $write[] = $worker->channel;
                }
            }
            $except = null;
            $wait = $this->nextWait();
            $ready = @\stream_select($read, $write, $except, (int) $wait, (int) (($wait - (int) $wait) * 1e6));
            if ($ready === false) {
                continue; // interrupted by a signal
            }
            foreach ($read as $stream) {
                $this->readable($stream);
            }
            foreach ($write as $stream) {
                $this->writable($stream);
            }
            $this->expire();
        }
    }

    private function nextWait(): float
    {
        $wait = 1.0;
        $now = \microtime(true);
        foreach ($this->timed as $job) {
            $wait = \min($wait, $job->deadline - $now);
        }
        return \max(0.0, $wait);
    }

    /** @param resource $stream */
    private function readable($stream): void
    {
        if ($stream === $this->listener) {
            $this->accept();
            return;
        }
        $id = (int) $stream;
        if (isset($this->connections[$id])) {
            $this->readConnection($this->connections[$id]);
            return;
        }
        foreach ($this->workers as $worker) {
            if ($worker->output === $stream) {
                $this->readOutput($worker);
                return;
            }
            if ($worker->channel === $stream) {
                $this->readChannel($worker);
                return;
            }
        }
    }

    /** @param resource $stream */
    private function writable($stream): void
    {
        $id = (int) $stream;
        if (isset($this->connections[$id])) {
            $this->flush($this->connections[$id]);
            return;
        }
        foreach ($this->workers as $worker) {
            if ($worker->channel === $stream) {
                $this->flushWorker($worker);
                return;
            }
        }
    }

    // -- connections --------------------------------------------------------------------------

    private function accept(): void
    {
        for ($i = 0; $i < 64; $i++) {
            $stream = @\stream_socket_accept($this->listener, 0);
            if ($stream === false) {
                return;
            }
            \stream_set_blocking($stream, false);
            \stream_set_read_buffer($stream, 0);
            \stream_set_write_buffer($stream, 0);
            \stream_set_chunk_size($stream, READ_SIZE);
            if ($this->tcp && $this->canNoDelay) {
                $socket = @\socket_import_stream($stream);
                if ($socket !== false && $socket !== null) {
                    @\socket_set_option($socket, SOL_TCP, TCP_NODELAY, 1);
                }
            }
            $this->connections[(int) $stream] = new Connection($stream, $this->tcp);
        }
    }

    private function close(Connection $connection): void
    {
        unset($this->connections[(int) $connection->stream]);
        @\fclose($connection->stream);
        foreach ($this->timed as $job) {
            if ($job->connection === $connection) {
                $job->connection = null; // it still runs; its answer goes nowhere
            }
        }
        foreach ($this->workers as $worker) {
            if ($worker->job !== null && $worker->job->connection === $connection) {
                $worker->job->connection = null;
            }
        }
        foreach ($this->queue as $job) {
            if ($job->connection === $connection) {
                $job->connection = null;
            }
        }
    }

    private function readConnection(Connection $connection): void
    {
        $data = @\fread($connection->stream, READ_SIZE);
        if ($data === false || $data === '') {
            if ($data === false || \feof($connection->stream)) {
                $this->close($connection);
            }
            return;
        }
        $connection->last = \microtime(true);
        if ($connection->closing) {
            return; // the answer is an error: what follows is ignored
        }
        $connection->in .= $data;
        if (\strlen($connection->in) > MAX_BODY + MAX_HEAD * 2 && $connection->busy) {
            $this->close($connection); // pipelining far beyond reason
            return;
        }
        $this->process($connection);
    }

    /** Parse and dispatch as many complete requests as the buffer holds (one at a time). */
    private function process(Connection $connection): void
    {
        while (!$connection->busy && !$connection->closing) {
            try {
                $request = $this->parse($connection);
            } catch (HttpError $error) {
                $this->respond($connection, $error->status, [['content-type', TEXT_PLAIN]], $error->getMessage(), false, false);
                return;
            }
            if ($request === null) {
                return;
            }
            $connection->busy = true;
            $this->dispatch($connection, $request);
        }
    }

    /** @return array<string, mixed>|null a complete request, or null while more bytes are needed */
    private function parse(Connection $connection): ?array
    {
        if ($connection->request === null) {
            while (\str_starts_with($connection->in, "\r\n")) {
                $connection->in = \substr($connection->in, 2);
            }
            $end = \strpos($connection->in, "\r\n\r\n");
            if ($end === false) {
                if (\strlen($connection->in) > MAX_HEAD) {
                    throw new HttpError(431, 'Request Header Fields Too Large');
                }
                return null;
            }
            if ($end > MAX_HEAD) {
                throw new HttpError(431, 'Request Header Fields Too Large');
            }
            $head = \substr($connection->in, 0, $end);
            $connection->in = (string) \substr($connection->in, $end + 4);
            $connection->request = self::parseHead($head);
            $this->startBody($connection);
        }
        if (!$this->readBody($connection)) {
            return null;
        }
        $request = $connection->request;
        $request['body'] = $connection->body;
        $connection->request = null;
        $connection->body = '';
        return $request;
    }

    /** @return array<string, mixed> */
    private static function parseHead(string $head): array
    {
        $lines = \explode("\r\n", $head);
        $parts = \explode(' ', \array_shift($lines));
        if (\count($parts) !== 3) {
            throw new HttpError(400, 'Bad Request');
        }
        [$method, $target, $version] = $parts;
        if (\preg_match(TOKEN_PATTERN, $method) !== 1 || $target === '' || !\in_array($version, ['HTTP/1.1', 'HTTP/1.0'], true)) {
            throw new HttpError(400, 'Bad Request');
        }
        $headers = [];
        foreach ($lines as $line) {
            if ($line === '') {
                continue;
            }
            $pair = \explode(':', $line, 2);
            if (\count($pair) !== 2 || \preg_match(TOKEN_PATTERN, $pair[0]) !== 1) {
                throw new HttpError(400, 'Bad Request');
            }
            $headers[] = [\strtolower($pair[0]), \trim($pair[1], " \t")];
        }
        $request = ['method' => $method, 'target' => $target, 'version' => $version, 'headers' => $headers];
        $tokens = \array_map('trim', \explode(',', \strtolower(self::header($request, 'connection'))));
        $request['keepAlive'] = $version === 'HTTP/1.0' ? \in_array('keep-alive', $tokens, true) : !\in_array('close', $tokens, true);
        return $request;
    }

    private static function digits(string $text): bool
    {
        return \preg_match('/\A[0-9]+\z/', $text) === 1;
    }

    /** @param array<string, mixed> $request the first value of a header, or '' */
    private static function header(array $request, string $name): string
    {
        foreach ($request['headers'] as [$key, $value]) {
            if ($key === $name) {
                return $value;
            }
        }
        return '';
    }

    private function startBody(Connection $connection): void
    {
        $request = $connection->request;
        $connection->body = '';
        $connection->chunked = \str_contains(\strtolower(self::header($request, 'transfer-encoding')), 'chunked');
        $connection->chunkState = 'size';
        $connection->remaining = 0;
        if (!$connection->chunked) {
            $length = self::header($request, 'content-length');
            if ($length !== '' && !self::digits($length)) {
                throw new HttpError(400, 'Bad Request');
            }
            if (\strlen($length) > 12 || (int) $length > MAX_BODY) {
                throw new HttpError(413, 'Maximum request body size ' . MAX_BODY . ' exceeded, actual body size ' . $length);
            }
            $connection->remaining = (int) $length;
            if ($connection->remaining === 0) {
                return;
            }
        }
        if ($request['version'] === 'HTTP/1.1' && \strtolower(self::header($request, 'expect')) === '100-continue') {
            $connection->out .= "HTTP/1.1 100 Continue\r\n\r\n";
            $this->flush($connection);
        }
    }

    /** Move body bytes from the buffer; true once the body is complete. */
    private function readBody(Connection $connection): bool
    {
        if (!$connection->chunked) {
            $take = \min($connection->remaining, \strlen($connection->in));
            if ($take > 0) {
                $connection->body .= \substr($connection->in, 0, $take);
                $connection->in = (string) \substr($connection->in, $take);
                $connection->remaining -= $take;
            }
            return $connection->remaining === 0;
        }
        while (true) {
            if ($connection->chunkState === 'size' || $connection->chunkState === 'trailer' || $connection->chunkState === 'crlf') {
                $end = \strpos($connection->in, "\r\n");
                if ($end === false) {
                    if (\strlen($connection->in) > MAX_HEAD) {
                        throw new HttpError(400, 'Bad Request');
                    }
                    return false;
                }
                $line = \substr($connection->in, 0, $end);
                $connection->in = (string) \substr($connection->in, $end + 2);
                if ($connection->chunkState === 'crlf') {
                    if ($line !== '') {
                        throw new HttpError(400, 'Bad Request');
                    }
                    $connection->chunkState = 'size';
                    continue;
                }
                if ($connection->chunkState === 'trailer') {
                    if ($line === '') {
                        return true; // trailers are ignored
                    }
                    continue;
                }
                $size = \trim(\explode(';', $line, 2)[0]);
                if (\preg_match('/\A[0-9A-Fa-f]{1,8}\z/', $size) !== 1) {
                    throw new HttpError(400, 'Bad Request');
                }
                $connection->remaining = (int) \hexdec($size);
                if ($connection->remaining === 0) {
                    $connection->chunkState = 'trailer';
                    continue;
                }
                if (\strlen($connection->body) + $connection->remaining > MAX_BODY) {
                    throw new HttpError(413, 'Maximum request body size ' . MAX_BODY . ' exceeded.');
                }
                $connection->chunkState = 'data';
            }
            $take = \min($connection->remaining, \strlen($connection->in));
            $connection->body .= \substr($connection->in, 0, $take);
            $connection->in = (string) \substr($connection->in, $take);
            $connection->remaining -= $take;
            if ($connection->remaining > 0) {
                return false;
            }
            $connection->chunkState = 'crlf';
        }
    }

    /** @param list<array{0: string, 1: string}> $headers */
    private function respond(Connection $connection, int $status, array $headers, string $body, bool $keepAlive, bool $head): void
    {
        $text = 'HTTP/1.1 ' . $status . ' ' . (REASONS[$status] ?? '') . "\r\n";
        foreach ($headers as [$name, $value]) {
            $text .= $name . ': ' . $value . "\r\n";
        }
        $noBody = $status < 200 || $status === 204 || $status === 304;
        if (!$noBody) {
            $text .= 'content-length: ' . \strlen($body) . "\r\n";
        }
        if (!$keepAlive) {
            $text .= "connection: close\r\n";
            $connection->closing = true;
        }
        $text .= "\r\n";
        if (!$noBody && !$head) {
            $text .= $body;
        }
        $connection->out .= $text;
        $connection->busy = false;
        $connection->last = \microtime(true);
        $this->flush($connection);
        if (isset($this->connections[(int) $connection->stream]) && !$connection->closing && $connection->in !== '') {
            $this->process($connection); // a pipelined request
        }
    }

    private function flush(Connection $connection): void
    {
        if ($connection->out !== '') {
            $written = @\fwrite($connection->stream, $connection->out);
            if ($written === false) {
                $this->close($connection);
                return;
            }
            $connection->out = (string) \substr($connection->out, $written);
        }
        if ($connection->out === '' && $connection->closing) {
            $this->close($connection);
        }
    }

    // -- requests -----------------------------------------------------------------------------

    /** @param array<string, mixed> $request */
    private function dispatch(Connection $connection, array $request): void
    {
        $path = \explode('?', $request['target'], 2)[0];
        $head = $request['method'] === 'HEAD';
        $keepAlive = $request['keepAlive'];
        if ($path === '/__opr/health') {
            $this->respond($connection, 200, [['content-type', TEXT_PLAIN]], 'OK', $keepAlive, $head);
            return;
        }
        if ($path === '/__opr/timings') {
            $timings = @\file_get_contents('/mnt/telemetry/timings.txt');
            $this->respond($connection, 200, [['content-type', TEXT_PLAIN]], $timings === false ? '' : $timings, $keepAlive, $head);
            return;
        }
        if ($this->secret !== '' && self::header($request, 'x-open-runtimes-secret') !== $this->secret) {
            $this->respond($connection, 500, [['content-type', TEXT_PLAIN]], SECRET_ERROR, $keepAlive, $head);
            return;
        }
        $timeout = self::header($request, 'x-open-runtimes-timeout');
        if ($timeout !== '' && (!self::digits($timeout) || (int) $timeout === 0)) {
            $this->respond($connection, 500, [['content-type', TEXT_PLAIN]], TIMEOUT_ERROR, $keepAlive, $head);
            return;
        }
        $logging = self::header($request, 'x-open-runtimes-logging');
        $logId = '';
        if ($logging === '' || $logging === 'enabled') {
            $wanted = self::header($request, 'x-open-runtimes-log-id');
            $logId = \preg_match(LOG_ID_PATTERN, $wanted) === 1 ? $wanted : ($this->development ? 'dev' : self::generateId());
        }
        $payload = \serialize([
            'method' => $request['method'],
            'target' => $request['target'],
            'headers' => $request['headers'],
            'body' => $request['body'],
            'logId' => $logId,
        ]);
        $deadline = $timeout === '' ? null : \microtime(true) + (int) $timeout;
        $job = new Job($connection, \pack('N', \strlen($payload)) . $payload, $logId, $deadline, $head, $keepAlive);
        if ($deadline !== null) {
            $this->timed[\spl_object_id($job)] = $job;
        }
        $this->queue[] = $job;
        $this->schedule();
    }

    /** A PHP uniqid() and 7 random hex characters, as open-runtimes' ids. */
    private static function generateId(): string
    {
        return \uniqid() . \substr(\bin2hex(\random_bytes(4)), 0, 7);
    }

    /** Hand queued jobs to idle workers (most recently used first), spawning up to the limit. */
    private function schedule(): void
    {
        while ($this->queue !== []) {
            $idle = null;
            foreach ($this->workers as $worker) {
                if ($worker->job === null && !$worker->retire && ($idle === null || $worker->idleSince > $idle->idleSince)) {
                    $idle = $worker;
                }
            }
            if ($idle === null) {
                if (\count($this->workers) >= $this->maxWorkers) {
                    return;
                }
                $idle = $this->spawn();
                if ($idle === null) {
                    return;
                }
            }
            $job = \array_shift($this->queue);
            $job->worker = $idle;
            $idle->job = $job;
            if (!$idle->served) {
                $idle->served = true;
                $job->addNative($idle->early); // its entrypoint's output belongs to its first request
                $idle->early = '';
            }
            $idle->out .= $job->frame;
            $this->flushWorker($idle);
        }
    }

    /** Answer a job and append the server's share of its logs (native output, then $error). */
    private function finish(Job $job, int $status, array $headers, string $body, ?string $error = null): void
    {
        unset($this->timed[\spl_object_id($job)]);
        if ($job->logId !== '') {
            $logger = new Logger($job->logId, $this->logsDir);
            $logger->native($job->native); // at most NATIVE_KEEP bytes kept: more than 8000 characters
            if ($error !== null) {
                $logger->write([$error], Logger::TYPE_ERROR);
            }
            $logger->end();
        }
        $headers[] = ['x-open-runtimes-log-id', $job->logId];
        $connection = $job->connection;
        if ($connection !== null && isset($this->connections[(int) $connection->stream])) {
            $this->respond($connection, $status, $headers, $body, $job->keepAlive, $job->head);
        }
    }

    /** Jobs past their deadline: the worker running one is killed; the request answers 500. */
    private function expire(): void
    {
        $now = \microtime(true);
        foreach ($this->timed as $job) {
            if ($job->deadline > $now) {
                continue;
            }
            $worker = $job->worker;
            if ($worker !== null) {
                $this->readOutput($worker);
                $worker->job = null;
                $this->remove($worker, true);
            } else {
                $this->queue = \array_values(\array_filter($this->queue, static fn (Job $queued) => $queued !== $job));
            }
            $this->finish($job, 500, [['content-type', TEXT_PLAIN]], '', TIMED_OUT);
        }
        foreach ($this->connections as $connection) {
            $limit = $connection->request !== null ? READ_TIMEOUT : IDLE_TIMEOUT;
            if (!$connection->busy && $now - $connection->last > $limit) {
                $this->close($connection);
            }
        }
        if ($now - $this->lastCheck >= 1.0) {
            $this->lastCheck = $now;
            foreach ($this->workers as $worker) {
                // A worker that died while a process it started still holds its channel open.
                if (!($status = \proc_get_status($worker->process))['running']) {
                    $this->ended($worker, $status);
                }
            }
        }
        $idle = \array_filter($this->workers, static fn (WorkerProcess $worker) => $worker->job === null);
        if (\count($idle) > 1) {
            foreach ($idle as $worker) {
                if ($now - $worker->idleSince > WORKER_IDLE && \count($this->workers) > 1) {
                    $this->remove($worker, true);
                }
            }
        }
        $this->schedule();
    }

    // -- workers ------------------------------------------------------------------------------

    /** A new worker: it starts loading the entrypoint at once, before it is given a request. */
    public function spawn(): ?WorkerProcess
    {
        $pair = \stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, STREAM_IPPROTO_IP);
        if ($pair === false) {
            return null;
        }
        $spec = [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['redirect', 1], 3 => $pair[1]];
        $process = @\proc_open($this->workerCommand, $spec, $pipes);
        \fclose($pair[1]);
        if (!\is_resource($process)) {
            \fclose($pair[0]);
            \fwrite(STDERR, "Could not start a PHP worker process.\n");
            return null;
        }
        foreach ([$pair[0], $pipes[1]] as $stream) {
            \stream_set_blocking($stream, false);
            \stream_set_read_buffer($stream, 0);
            \stream_set_write_buffer($stream, 0);
            \stream_set_chunk_size($stream, READ_SIZE);
        }
        $worker = new WorkerProcess($process, $pair[0], $pipes[1]);
        $this->workers[\spl_object_id($worker)] = $worker;
        return $worker;
    }

    /**
     * Stop a worker (killed when it may still run) and reap it; keep one worker ready, unless
     * this one died on its own before it was given a request (its entrypoint may end the
     * process as it loads: a new worker then starts only when a request needs one).
     */
    private function remove(WorkerProcess $worker, bool $kill, bool $respawn = true): void
    {
        unset($this->workers[\spl_object_id($worker)]);
        if ($kill) {
            @\proc_terminate($worker->process, 9);
        }
        @\fclose($worker->channel);
        @\fclose($worker->output);
        @\proc_close($worker->process);
        if ($respawn && $this->workers === []) {
            $this->spawn();
        }
    }

    private function readOutput(WorkerProcess $worker): void
    {
        if ($worker->silent) {
            return;
        }
        while (true) {
            $data = @\fread($worker->output, READ_SIZE);
            if ($data === false || $data === '') {
                $worker->silent = $data === false || \feof($worker->output);
                return;
            }
            if ($worker->job !== null) {
                $worker->job->addNative($data);
            } elseif (!$worker->served) {
                $worker->early .= \substr($data, 0, \max(0, NATIVE_KEEP - \strlen($worker->early)));
            } else {
                \fwrite(STDOUT, $data); // between requests: the runtime's own output
            }
        }
    }

    private function readChannel(WorkerProcess $worker): void
    {
        $data = @\fread($worker->channel, READ_SIZE);
        if ($data === false || ($data === '' && \feof($worker->channel))) {
            $this->ended($worker);
            return;
        }
        $worker->in .= $data;
        while (\strlen($worker->in) >= 4) {
            $length = \unpack('N', $worker->in)[1];
            if (\strlen($worker->in) < 4 + $length) {
                return;
            }
            $payload = \substr($worker->in, 4, $length);
            $worker->in = (string) \substr($worker->in, 4 + $length);
            $response = \unserialize($payload, ['allowed_classes' => false]);
            $this->answered($worker, \is_array($response) ? $response : []);
        }
    }

    /** @param array<string, mixed> $response */
    private function answered(WorkerProcess $worker, array $response): void
    {
        $job = $worker->job;
        $this->readOutput($worker); // whatever it printed came before its answer
        $worker->job = null;
        $worker->idleSince = \microtime(true);
        if ($response['retire'] ?? false) {
            $worker->retire = true;
        }
        if ($job !== null) {
            $headers = \is_array($response['headers'] ?? null) ? $response['headers'] : [['content-type', TEXT_PLAIN]];
            $this->finish($job, (int) ($response['status'] ?? 500), $headers, (string) ($response['body'] ?? ''));
        }
        if ($worker->retire) {
            $this->remove($worker, true);
        }
        $this->schedule();
    }

    /**
     * The worker's channel closed, or it is gone: it exited (crash, out of memory) or was
     * retired. @param array<string, mixed>|null $status its proc_get_status() once it exited
     */
    private function ended(WorkerProcess $worker, ?array $status = null): void
    {
        $this->readOutput($worker);
        $job = $worker->job;
        $worker->job = null;
        if ($status === null) {
            $status = \proc_get_status($worker->process);
            for ($tries = 0; $status['running'] && $tries < 50; $tries++) {
                \usleep(2000); // its descriptors close a moment before it can be reaped
                $status = \proc_get_status($worker->process);
            }
        }
        $how = match (true) {
            $status['running'] => 'closed its channel',
            $status['signaled'] && $status['termsig'] === 9 => 'was killed (signal 9: out of memory?)',
            $status['signaled'] => 'was killed by signal ' . $status['termsig'],
            default => 'exited with code ' . $status['exitcode'],
        };
        $this->remove($worker, true, $job !== null);
        if ($job !== null) {
            $message = "The PHP process running the function {$how} before it answered.";
            $this->finish($job, 500, [['content-type', TEXT_PLAIN]], '', $message);
        }
        $this->schedule();
    }

    private function flushWorker(WorkerProcess $worker): void
    {
        if ($worker->out === '') {
            return;
        }
        $written = @\fwrite($worker->channel, $worker->out);
        if ($written === false) {
            $this->ended($worker);
            return;
        }
        $worker->out = (string) \substr($worker->out, $written);
    }
}

function main(): never
{
    $socketPath = (string) \getenv('OPEN_RUNTIMES_SOCKET');
    $port = (int) (\getenv('OPEN_RUNTIMES_PORT') ?: 3000);
    $server = new Server($socketPath, $port);
    \pcntl_async_signals(true);
    foreach ([SIGTERM, SIGINT] as $signal) {
        \pcntl_signal($signal, static fn () => $server->stop());
    }
    $server->spawn(); // the first worker loads the function while the server starts listening
    $server->listen();
    echo "HTTP server successfully started!\n";
    $server->serve();
}

main();
