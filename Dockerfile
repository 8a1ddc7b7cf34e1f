# wapipe worker image: a static binary on a small base.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/wapipe ./cmd/wapipe && mkdir -p /out/state

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/wapipe /usr/local/bin/wapipe
# The state directory belongs to the nonroot user, so a named volume mounted there is writable.
COPY --from=build --chown=65532:65532 /out/state /var/lib/wapipe
USER nonroot
ENTRYPOINT ["/usr/local/bin/wapipe"]
CMD ["run"]
