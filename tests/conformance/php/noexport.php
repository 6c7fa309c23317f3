<?php

// Returns no function: its executions answer 503 (open-runtimes' "Function signature invalid").
function handler($context)
{
    return $context->res->text('never');
}
