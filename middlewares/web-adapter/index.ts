export {
  type FastifyLike,
  type FastifyReplyLike,
  type FastifyRequestLike,
  snapStartExpress,
  snapStartFastify,
  snapStartRequestListener,
  type WebAdapterOptions,
} from './web-adapter.js'
