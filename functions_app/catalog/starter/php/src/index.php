<?php

// The runtime calls the returned function for each request: $context->req is the request,
// $context->res builds the response, $context->log() and $context->error() write to the
// execution's logs.
return function ($context) {
    $req = $context->req;
    if ($req->path === '/ping') {
        return $context->res->text('Pong');
    }

    $greeting = getenv('GREETING') ?: 'Hello';
    $name = getenv('APPWRITE_FUNCTION_NAME') ?: 'function';
    $context->log("{$greeting} from {$name}: {$req->method} {$req->path}");
    return $context->res->json([
        'message' => "{$greeting} from {$name}!",
        'method' => $req->method,
        'path' => $req->path,
        'query' => (object) $req->query,
        'runtime' => trim(getenv('APPWRITE_FUNCTION_RUNTIME_NAME') . ' ' . getenv('APPWRITE_FUNCTION_RUNTIME_VERSION')),
    ]);
};
