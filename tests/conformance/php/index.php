<?php

require_once __DIR__ . '/vendor/autoload.php';

use Conformance\Greeting\Greeter;

enum Suit: string
{
    case Hearts = 'hearts';
}

enum Plain
{
    case Only;
}

$built = file_get_contents(__DIR__ . '/built.txt');

return function ($context) use ($built) {
    $req = $context->req;
    $res = $context->res;

    switch ($req->path) {
        case '/echo':
            try {
                $bodyJson = $req->bodyJson;
            } catch (\JsonException) {
                $bodyJson = null;
            }
            $env = array_filter(
                getenv(),
                fn ($key) => str_starts_with($key, 'APPWRITE_FUNCTION_') || str_starts_with($key, 'CONFORMANCE_'),
                ARRAY_FILTER_USE_KEY
            );
            return $res->json([
                'method' => $req->method,
                'scheme' => $req->scheme,
                'host' => $req->host,
                'port' => $req->port,
                'path' => $req->path,
                'query' => (object) $req->query,
                'queryString' => $req->queryString,
                'headers' => (object) $req->headers,
                'bodyText' => $req->bodyText,
                'bodyJson' => $bodyJson,
                'url' => $req->url,
                'env' => (object) $env,
                'built' => $built,
                'library' => Greeter::hello('composer'),
            ]);
        case '/binary':
            return $res->binary(strrev($req->bodyBinary));
        case '/headers':
            return $res->text('<b/>', 201, ['Content-Type' => 'Text/HTML', 'X-Custom' => 'V', 'x-open-runtimes-x' => '1']);
        case '/json':
            return $res->json(['ok' => true, 'list' => [1, 2], 'nested' => ['a' => 'b']]);
        case '/redirect':
            return $res->redirect('https://example.com/next', 301);
        case '/empty':
            return $res->empty();
        case '/status':
            return $res->text('teapot', 418);
        case '/cookie':
            return $res->text('cookie', 200, ['set-cookie' => 'session=abc; Path=/; HttpOnly']);
        case '/send':
            return $res->send('sent', 202);
        case '/log':
            echo "native out\n";
            $context->log('a', ['b' => 1], [1, 2], 3, true);
            $context->error('problem');
            $context->log(str_repeat('x', 9000));
            return $res->text('logged');
        case '/objects':
            $context->log([
                'text' => 'marker-1',
                'number' => 42,
                'list' => [1, [2, 3]],
                'map' => ['k' => ['v' => 1]],
                'none' => null,
                'flag' => false,
                'float' => 1.5,
                'object' => (object) ['prop' => 'stdclass'],
                'date' => new DateTimeImmutable('2024-01-02T03:04:05Z'),
                'enum' => Suit::Hearts,
                'pure' => Plain::Only,
                'arrayObject' => new ArrayObject(['ao' => 1]),
                'closure' => fn () => null,
            ]);
            return $res->text('objects');
        case '/throw':
            throw new \RuntimeException('boom');
        case '/none':
            return;
        case '/sleep':
            usleep((int) ((float) ($req->query['s'] ?? '1') * 1000000));
            return $res->text('slept');
        default:
            return $res->text('unknown path ' . $req->path, 404);
    }
};
