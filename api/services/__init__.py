"""What the routes do, apart from HTTP: services take a session, storage, a task queue and plain
arguments, return rows or public schemas, and raise the errors of `api.services.errors` (or
`models.access`); they never see a Request or a Response. Routes read the request, call one
service, and shape the answer."""
