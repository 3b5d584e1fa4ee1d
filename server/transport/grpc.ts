// grpc-js service definitions and calls built from the protoc-gen-es schemas in proto/gen.
// grpc-js needs a ServiceDefinition (paths and serializers); protobuf-es v2 generates only
// descriptors, so this file joins the two.
import assert from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';

/** The maximum size of one gRPC message in either direction; snapshots travel in one message. */
export const GRPC_MESSAGE_BYTES_MAX = 256 * 1024 * 1024;

/**
 * The value a request deserializer returns for bytes that are not a valid message. grpc-js replies
 * INTERNAL when a deserializer throws, so the handler wrapper turns this value into INVALID_ARGUMENT.
 */
class MalformedRequest {
  constructor(readonly reason: string) {}
}

/** A request that a handler rejects as invalid; the caller receives INVALID_ARGUMENT. */
export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
}

type Methods<S extends GenServiceMethods> = GenService<S>['method'];
type Input<S extends GenServiceMethods, K extends keyof S> = MessageShape<S[K]['input']>;
type Output<S extends GenServiceMethods, K extends keyof S> = MessageShape<S[K]['output']>;

/** A unary handler resolves with the response message, or rejects (see `toServiceError`). */
export type UnaryHandler<S extends GenServiceMethods, K extends keyof S> = (request: Input<S, K>) => Promise<Output<S, K>>;

/** A server-streaming handler writes responses to `stream` until the call ends. */
export type StreamHandler<S extends GenServiceMethods, K extends keyof S> = (
  request: Input<S, K>,
  stream: grpc.ServerWritableStream<Input<S, K>, Output<S, K>>,
) => void;

export type ServiceHandlers<S extends GenServiceMethods> = {
  [K in keyof S]: S[K]['methodKind'] extends 'server_streaming' ? StreamHandler<S, K> : UnaryHandler<S, K>;
};

/**
 * A unary method that decodes its request bytes and encodes its response itself, for hot paths
 * where the reflective fromBinary/toBinary of protobuf-es costs too much. The wire format stays
 * that of the method's schemas.
 */
export interface EncodedUnaryMethod<Request, Response> {
  /**
   * Decodes and validates request bytes. On an InvalidRequestError the call fails with
   * INVALID_ARGUMENT and its message. Any other error fails it with INVALID_ARGUMENT as
   * malformed bytes.
   */
  decodeRequest: (bytes: Uint8Array) => Request;
  handle: (request: Request) => Promise<Response>;
  encodeResponse: (response: Response) => Uint8Array;
}

/** An EncodedUnaryMethod with its request and response types erased, as addService stores it. */
export type AnyEncodedUnaryMethod = EncodedUnaryMethod<unknown, unknown>;

/** Erases the types of `method` after they were checked at its definition. */
export function encodedUnaryMethod<Request, Response>(method: EncodedUnaryMethod<Request, Response>): AnyEncodedUnaryMethod {
  return method as unknown as AnyEncodedUnaryMethod;
}

/** Unary methods of S that bring their own codec; addService then takes no handler for them. */
export type EncodedMethods<S extends GenServiceMethods> = { [K in keyof S]?: AnyEncodedUnaryMethod };

export function methodPath(service: { typeName: string }, method: { name: string }): string {
  return `/${service.typeName}/${method.name}`;
}

function serializer<D extends DescMessage>(schema: D): (message: MessageShape<D>) => Buffer {
  return (message) => {
    const bytes = toBinary(schema, message);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function tolerantDeserializer<D extends DescMessage>(schema: D): (bytes: Buffer) => MessageShape<D> | MalformedRequest {
  return (bytes) => {
    try {
      return fromBinary(schema, bytes);
    } catch (error) {
      return new MalformedRequest(`malformed ${schema.typeName}: ${(error as Error).message}`);
    }
  };
}

/** Converts a handler failure into a gRPC status: INVALID_ARGUMENT for bad input, else INTERNAL. */
export function toServiceError(error: unknown): Partial<grpc.StatusObject> {
  if (error instanceof InvalidRequestError) {
    return { code: grpc.status.INVALID_ARGUMENT, details: error.message };
  }
  return { code: grpc.status.INTERNAL, details: error instanceof Error ? error.message : String(error) };
}

/**
 * Adds `service` to `server` with `handlers`. Malformed request bytes get INVALID_ARGUMENT
 * without reaching the handler, so junk on the port never disturbs the node.
 */
export function addService<S extends GenServiceMethods, E extends EncodedMethods<S> = Record<never, never>>(
  server: grpc.Server,
  service: GenService<S>,
  handlers: NoInfer<Omit<ServiceHandlers<S>, keyof E>>,
  encoded?: E,
): void {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};

  for (const method of service.methods) {
    const streaming = method.methodKind === 'server_streaming';
    assertSupportedKind(method.methodKind, method.name);
    const encodedMethod = (encoded as Record<string, AnyEncodedUnaryMethod | undefined> | undefined)?.[method.localName];
    if (encodedMethod !== undefined) {
      assert(!streaming, `method ${method.name} streams, so it cannot bring its own codec`);
      definition[method.localName] = encodedDefinition(service, method, encodedMethod);
      implementation[method.localName] = wrapUnary(encodedMethod.handle);
      continue;
    }
    definition[method.localName] = {
      path: methodPath(service, method),
      requestStream: false,
      responseStream: streaming,
      requestSerialize: serializer(method.input),
      requestDeserialize: tolerantDeserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
    } as grpc.MethodDefinition<unknown, unknown>;

    const handler = (handlers as Record<string, unknown>)[method.localName];
    implementation[method.localName] = streaming
      ? wrapStream(handler as (request: unknown, stream: grpc.ServerWritableStream<unknown, unknown>) => void)
      : wrapUnary(handler as (request: unknown) => Promise<unknown>);
  }

  server.addService(definition, implementation);
}

function encodedDefinition(
  service: { typeName: string },
  method: DescMethodLike,
  encoded: AnyEncodedUnaryMethod,
): grpc.MethodDefinition<unknown, unknown> {
  return {
    path: methodPath(service, method),
    requestStream: false,
    responseStream: false,
    requestSerialize: serializer(method.input) as (message: unknown) => Buffer,
    requestDeserialize: (bytes: Buffer) => {
      try {
        return encoded.decodeRequest(bytes);
      } catch (error) {
        if (error instanceof InvalidRequestError) {
          return new MalformedRequest(error.message);
        }
        return new MalformedRequest(`malformed ${method.input.typeName}: ${(error as Error).message}`);
      }
    },
    responseSerialize: (response: unknown) => asBuffer(encoded.encodeResponse(response)),
    responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
  };
}

function assertSupportedKind(kind: string, name: string): void {
  if (kind !== 'unary' && kind !== 'server_streaming') {
    throw new Error(`method ${name} is ${kind}; only unary and server-streaming methods are supported`);
  }
}

function wrapUnary(handler: (request: unknown) => Promise<unknown>): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    const request = call.request;
    if (request instanceof MalformedRequest) {
      callback({ code: grpc.status.INVALID_ARGUMENT, details: request.reason });
      return;
    }
    handler(request).then(
      (response) => callback(null, response),
      (error: unknown) => callback(toServiceError(error)),
    );
  };
}

function wrapStream(
  handler: (request: unknown, stream: grpc.ServerWritableStream<unknown, unknown>) => void,
): grpc.handleServerStreamingCall<unknown, unknown> {
  return (call) => {
    const request = call.request;
    if (request instanceof MalformedRequest) {
      call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: request.reason });
      return;
    }
    handler(request, call);
  };
}

/** A typed error for a failed outgoing call, carrying the gRPC status code. */
export class CallError extends Error {
  override readonly name = 'CallError';
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Calls the unary `method` of `service` on `client` with a deadline of `timeoutMs`. `request`
 * may be a message or its plain init shape. Rejects with a CallError carrying the gRPC status
 * on any failure.
 */
export function callUnary<S extends GenServiceMethods, K extends keyof S & string>(
  client: grpc.Client,
  service: GenService<S>,
  methodName: K,
  init: Input<S, K> | MessageInitShape<S[K]['input']>,
  timeoutMs: number,
): Promise<Output<S, K>> {
  const method = (service.method as Methods<S>)[methodName];
  const request = '$typeName' in init ? init : create(method.input, init as MessageInitShape<S[K]['input']>);
  const codec = codecFor(service, method);
  return makeUnary(client, codec, codec.serialize, request, timeoutMs) as Promise<Output<S, K>>;
}

/**
 * Calls the unary `method` of `service` like callUnary, with the request already encoded to
 * protobuf bytes (for callers that reuse encoded parts across calls).
 */
export function callUnaryEncoded<S extends GenServiceMethods, K extends keyof S & string>(
  client: grpc.Client,
  service: GenService<S>,
  methodName: K,
  requestBytes: Uint8Array,
  timeoutMs: number,
): Promise<Output<S, K>> {
  const method = (service.method as Methods<S>)[methodName];
  const codec = codecFor(service, method);
  return makeUnary(client, codec, asBuffer, requestBytes, timeoutMs) as Promise<Output<S, K>>;
}

/**
 * Calls the unary `method` like callUnaryEncoded and also returns a function that cancels the
 * call. A cancelled call rejects with CANCELLED; the request may still have reached the server.
 */
export function callUnaryCancellable<S extends GenServiceMethods, K extends keyof S & string>(
  client: grpc.Client,
  service: GenService<S>,
  methodName: K,
  requestBytes: Uint8Array,
  timeoutMs: number,
): { reply: Promise<Output<S, K>>; cancel: () => void } {
  const method = (service.method as Methods<S>)[methodName];
  const codec = codecFor(service, method);
  let call: grpc.ClientUnaryCall | undefined;
  const reply = new Promise<unknown>((resolve, reject) => {
    call = startUnary(client, codec, asBuffer, requestBytes, timeoutMs, resolve, reject);
  });
  return { reply: reply as Promise<Output<S, K>>, cancel: () => call?.cancel() };
}

/**
 * Calls the unary `method` like callUnaryEncoded but returns the response bytes undecoded, for
 * callers that decode the response themselves.
 */
export function callUnaryBytes<S extends GenServiceMethods, K extends keyof S & string>(
  client: grpc.Client,
  service: GenService<S>,
  methodName: K,
  requestBytes: Uint8Array,
  timeoutMs: number,
): Promise<Buffer> {
  const method = (service.method as Methods<S>)[methodName];
  const codec = codecFor(service, method);
  return new Promise((resolve, reject) => {
    startUnary(client, { ...codec, deserialize: keepBytes }, asBuffer, requestBytes, timeoutMs, resolve as (response: unknown) => void, reject);
  });
}

function keepBytes(bytes: Buffer): Buffer {
  return bytes;
}

function asBuffer(bytes: unknown): Buffer {
  const view = bytes as Uint8Array;
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

function makeUnary(
  client: grpc.Client,
  codec: MethodCodec,
  serialize: (message: unknown) => Buffer,
  request: unknown,
  timeoutMs: number,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    startUnary(client, codec, serialize, request, timeoutMs, resolve, reject);
  });
}

function startUnary(
  client: grpc.Client,
  codec: MethodCodec,
  serialize: (message: unknown) => Buffer,
  request: unknown,
  timeoutMs: number,
  resolve: (response: unknown) => void,
  reject: (error: CallError) => void,
): grpc.ClientUnaryCall {
  const path = codec.path;
  return client.makeUnaryRequest(
    path,
    serialize,
    codec.deserialize,
    request,
    new grpc.Metadata(),
    { deadline: Date.now() + timeoutMs },
    (error, response) => {
      if (error) {
        reject(new CallError(error.code, `${path} failed: ${error.details || error.message}`));
        return;
      }
      resolve(response);
    },
  );
}

interface MethodCodec {
  path: string;
  serialize: (message: unknown) => Buffer;
  deserialize: (bytes: Buffer) => unknown;
}

/** Serializers per method, built once so that a call allocates no closures for them. */
const codecs = new WeakMap<object, MethodCodec>();

function codecFor(service: { typeName: string }, method: DescMethodLike): MethodCodec {
  let codec = codecs.get(method);
  if (!codec) {
    codec = {
      path: methodPath(service, method),
      serialize: serializer(method.input) as (message: unknown) => Buffer,
      deserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
    };
    codecs.set(method, codec);
  }
  return codec;
}

type DescMethodLike = { name: string; input: DescMessage; output: DescMessage };

/** Channel options shared by servers and clients: message size limits and keepalive. */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': GRPC_MESSAGE_BYTES_MAX,
  'grpc.max_send_message_length': GRPC_MESSAGE_BYTES_MAX,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.initial_reconnect_backoff_ms': 50,
  'grpc.max_reconnect_backoff_ms': 1_000,
};
