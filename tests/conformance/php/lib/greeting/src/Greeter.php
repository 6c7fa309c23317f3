<?php

namespace Conformance\Greeting;

final class Greeter
{
    public static function hello(string $name): string
    {
        return "hello {$name}";
    }
}
