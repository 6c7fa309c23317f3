"""Appwrite's error catalogue (the subset the Functions API returns) and the one exception
type every layer raises. The API's exception handler renders it as
``{"message", "code", "type", "version"}``."""

CATALOGUE = {
    "general_argument_invalid": (
        400,
        "The request contains one or more invalid arguments. Please refer to the endpoint documentation.",
    ),
    "general_bad_request": (
        400,
        "There was an error processing your request. Please check the inputs and try again.",
    ),
    "general_query_invalid": (
        400,
        "The query's syntax is invalid. Please check the query and try again.",
    ),
    "general_cursor_not_found": (
        400,
        "The cursor is invalid. This can happen if the item represented by the cursor has been deleted.",
    ),
    "database_query_order_null": (
        400,
        "The order attribute had a null value. Cursor pagination requires all documents order attribute values are non-null.",
    ),
    "general_unauthorized_scope": (
        401,
        "The current user or API key does not have the required scopes to access the requested resource.",
    ),
    "general_access_forbidden": (401, "Access to this API is forbidden."),
    "user_unauthorized": (
        401,
        "The current user is not authorized to perform the requested action.",
    ),
    "user_jwt_invalid": (
        401,
        "The JWT token is invalid. Please check the value of the X-Appwrite-JWT header to ensure the correct token is being used.",
    ),
    "project_key_expired": (
        401,
        "The project key has expired. Please generate a new key using the Appwrite console.",
    ),
    "function_execute_permission_missing": (
        401,
        'To execute function using domain, execute permissions must include "any" or "guests".',
    ),
    "user_key_and_session_set": (
        403,
        "API key and session used in the same request. Use either `setSession` or `setKey`. Learn about which authentication method to use in the SSR docs: https://appwrite.io/docs/products/auth/server-side-rendering",
    ),
    "general_unknown_origin": (
        403,
        "The request originated from an unknown origin. If you trust this domain, please list it as a trusted platform in the Appwrite console.",
    ),
    "storage_invalid_file": (
        403,
        "The uploaded file is invalid. Please check the file and try again.",
    ),
    "project_not_found": (
        404,
        "Project with the requested ID could not be found. Please check the value of the X-Appwrite-Project header to ensure the correct project ID is being used.",
    ),
    "general_route_not_found": (
        404,
        "Route not found. Please ensure the endpoint is configured correctly and that the API route is valid for this SDK version. Refer to the API docs for more details.",
    ),
    "function_not_found": (404, "Function with the requested ID could not be found."),
    "function_runtime_unsupported": (
        404,
        "The requested runtime is either inactive or unsupported. Please check the value of the _APP_FUNCTIONS_RUNTIMES environment variable.",
    ),
    "function_entrypoint_missing": (
        404,
        'Entrypoint for your Appwrite Function is missing. Please specify it when making deployment or update the entrypoint under your function\'s "Settings" > "Configuration" > "Entrypoint".',
    ),
    "deployment_not_found": (404, "Deployment with the requested ID could not be found."),
    "execution_not_found": (404, "Execution with the requested ID could not be found."),
    "variable_not_found": (404, "Variable with the requested ID could not be found."),
    "function_template_not_found": (
        404,
        "Function Template with the requested ID could not be found.",
    ),
    "installation_not_found": (
        404,
        "Installation with the requested ID could not be found. Check to see if the ID is correct, or create the installation.",
    ),
    "provider_repository_not_found": (
        404,
        "VCS (Version Control System) repository with the requested ID could not be found. Check to see if the ID is correct, or create the repository.",
    ),
    "rule_not_found": (
        404,
        "Rule with the requested ID could not be found. Please check the value of the X-Appwrite-Project header to ensure the correct project ID is being used.",
    ),
    "rule_resource_not_found": (
        404,
        "Resource could not be found. Please check if the resourceId and resourceType are correct, or if the resource actually exists.",
    ),
    "function_synchronous_timeout": (
        408,
        "Synchronous function execution timed out. Use asynchronous execution instead, or ensure the execution duration doesn't exceed 30 seconds.",
    ),
    "project_already_exists": (
        409,
        "Project with the requested ID already exists. Try again with a different ID or use ID.unique() to generate a unique ID.",
    ),
    "function_already_exists": (
        409,
        "Function with the requested ID already exists. Try again with a different ID or use ID.unique() to generate a unique ID.",
    ),
    "rule_already_exists": (
        409,
        "Domain is already used. Please try again with a different domain.",
    ),
    "variable_already_exists": (
        409,
        "Variable with the same ID already exists in this project. Try again with a different ID.",
    ),
    "build_not_ready": (
        400,
        "Build with the requested ID is building and not ready for execution.",
    ),
    "build_already_completed": (
        400,
        "Build with the requested ID is already completed and cannot be canceled.",
    ),
    "build_failed": (
        400,
        "Build with the requested ID failed. Please check the logs for more information.",
    ),
    "build_canceled": (400, "Build with the requested ID has been canceled."),
    "execution_in_progress": (
        400,
        "Can't delete ongoing execution. Please wait for execution to finish before deleting it.",
    ),
    "variable_cannot_unset_secret": (
        400,
        "Secret variables cannot be marked as non-secret. Please re-create the variable if this is your intention.",
    ),
    "storage_file_empty": (400, "Empty file passed to the endpoint."),
    "storage_file_type_unsupported": (400, "The given file extension is not supported."),
    "storage_invalid_file_size": (
        400,
        "The file size is either not valid or exceeds the maximum allowed size. Please check the file or the value of the _APP_STORAGE_LIMIT environment variable.",
    ),
    "storage_invalid_content_range": (
        400,
        "The content range is invalid. Please check the value of the Content-Range header.",
    ),
    "storage_invalid_range": (
        416,
        "The requested range is not satisfiable. Please check the value of the Range header.",
    ),
    "user_invalid_credentials": (
        401,
        "Invalid credentials. Please check the email and password.",
    ),
    "user_blocked": (401, "The current user has been blocked."),
    "user_session_already_exists": (
        401,
        "Creation of a session is prohibited when a session is active.",
    ),
    "user_session_not_found": (404, "The current user session could not be found."),
    "user_not_found": (404, "User with the requested ID could not be found."),
    "user_already_exists": (
        409,
        "A user with the same id, email, or phone already exists in this project.",
    ),
    "user_password_personal_data": (
        400,
        "The password you are trying to use contains references to your name, email, phone or userID. For security reasons, please choose another password and try again.",
    ),
    "user_email_not_whitelisted": (
        401,
        "Console registration is restricted to specific emails. Contact your administrator for more information.",
    ),
    "general_rate_limit_exceeded": (
        429,
        "Rate limit for the current endpoint has been exceeded. Please try again after some time.",
    ),
    "general_server_error": (500, "An internal server error occurred."),
    "health_queue_size_exceeded": (503, "Queue size threshold hit."),
    "general_unknown": (
        500,
        "An unknown error has occurred. Please check the logs for more information.",
    ),
}

# Only these HTTP codes reach the client as they are; anything else becomes 500 "Server Error".
# 413 is not on Appwrite's list because its HTTP server (Swoole) answers an oversized body
# itself, before Appwrite sees the request; we answer it too, in Appwrite's error JSON.
PASSTHROUGH_CODES = {400, 401, 402, 403, 404, 408, 409, 412, 413, 416, 422, 429, 451, 501, 503}


class AppwriteError(Exception):
    """An error with an Appwrite type; ``message`` defaults to the catalogue's text."""

    def __init__(self, type_, message=None, code=None):
        default_code, default_message = CATALOGUE[type_]
        self.type = type_
        self.code = code or default_code
        self.message = message or default_message
        super().__init__(self.message)

    def as_dict(self, version):
        code = self.code if self.code in PASSTHROUGH_CODES else 500
        message = self.message if code != 500 else "Server Error"
        return {"message": message, "code": code, "type": self.type, "version": version}


def argument_invalid(message):
    return AppwriteError("general_argument_invalid", message)


def param_missing(name):
    return argument_invalid(f'Param "{name}" is not optional.')


def param_invalid(name, description):
    return argument_invalid(f"Invalid `{name}` param: {description}")


def body_too_large(limit):
    """Appwrite has no error type for this (see ``PASSTHROUGH_CODES``): an invalid argument,
    with the status its server gives."""
    return AppwriteError(
        "general_argument_invalid",
        f"Request body is too large. The maximum request size is {limit} bytes.",
        code=413,
    )
