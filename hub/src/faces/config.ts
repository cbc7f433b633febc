import Type, { type Static } from 'typebox';
import { FaceKeysConfigSchema } from './keys.ts';

export const FacesConfigSchema = Type.Object(
  {
    recogniser: Type.Union([Type.Literal('faceapi-recognition'), Type.Literal('faceres')], {
      default: 'faceapi-recognition',
      description: 'model the hub computes templates with; must match the gateways’ face.recogniser',
    }),
    retentionDays: Type.Integer({
      minimum: 0,
      maximum: 3650,
      default: 30,
      description: 'templates are deleted this many days after a person leaves or withdraws consent (0: at once)',
    }),
    maxPhotoBytes: Type.Integer({ minimum: 64 * 1024, maximum: 32 * 1024 * 1024, default: 8 * 1024 * 1024, description: 'request body limit of the enrolment route only' }),
    maxPhotos: Type.Integer({ minimum: 1, maximum: 16, default: 5, description: 'photos per enrolment' }),
    dormManagers: Type.Record(Type.String(), Type.Array(Type.String({ minLength: 1 })), {
      default: {},
      description: 'username -> dorms a user with the dorm role may enrol residents of',
    }),
    keys: FaceKeysConfigSchema,
  },
  { additionalProperties: false, default: {}, description: 'face enrolment, galleries and retention (issue 3)' },
);
export type FacesConfig = Static<typeof FacesConfigSchema>;
