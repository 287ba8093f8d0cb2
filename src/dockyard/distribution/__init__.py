"""The registry client: auth, mirrors, insecure registries, resolve, verified fetch, push.

It fetches into a content store and says what it resolved; image records are the `images`
package's business. Entry points: `Registries` (config + credentials + connections),
`Resolver`, `Fetcher`, `Pusher`, `login`/`logout`.
"""
