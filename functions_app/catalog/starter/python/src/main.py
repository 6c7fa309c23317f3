import os


# The runtime calls main(context) for each request: context.req is the request, context.res
# builds the response, context.log() and context.error() write to the execution's logs.
def main(context):
    if context.req.path == "/ping":
        return context.res.text("Pong")

    greeting = os.environ.get("GREETING") or "Hello"
    name = os.environ.get("APPWRITE_FUNCTION_NAME", "function")
    context.log(f"{greeting} from {name}: {context.req.method} {context.req.path}")
    return context.res.json(
        {
            "message": f"{greeting} from {name}!",
            "method": context.req.method,
            "path": context.req.path,
            "query": context.req.query,
            "runtime": " ".join(
                [
                    os.environ.get("APPWRITE_FUNCTION_RUNTIME_NAME", ""),
                    os.environ.get("APPWRITE_FUNCTION_RUNTIME_VERSION", ""),
                ]
            ).strip(),
        }
    )
