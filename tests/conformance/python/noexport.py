def handler(context):
    return context.res.text("never")
