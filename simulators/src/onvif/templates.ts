import { isoSeconds, xmlEscape as x } from './soap.ts';

/** Response bodies of the virtual ONVIF camera (the envelope is added by soap.envelope). */

export interface CameraFacts {
  base: string;
  name: string;
  manufacturer: string;
  model: string;
  firmware: string;
  serial: string;
  hardwareId: string;
  width: number;
  height: number;
  fps: number;
  ptz: boolean;
}

export const PROFILE_TOKEN = 'profile_main';
export const SOURCE_TOKEN = 'vs_main';
const SOURCE_CONFIG_TOKEN = 'vsc_main';
const ENCODER_TOKEN = 'vec_main';
const PTZ_CONFIG_TOKEN = 'ptzc_main';

export function systemDateAndTime(cameraMs: number): string {
  const d = new Date(cameraMs);
  return (
    `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>` +
    `<tt:TimeZone><tt:TZ>CST-8</tt:TZ></tt:TimeZone><tt:UTCDateTime>` +
    `<tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time>` +
    `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date>` +
    `</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`
  );
}

export function capabilities(f: CameraFacts): string {
  return (
    `<tds:GetCapabilitiesResponse><tds:Capabilities>` +
    `<tt:Device><tt:XAddr>${x(f.base)}/device_service</tt:XAddr></tt:Device>` +
    `<tt:Events><tt:XAddr>${x(f.base)}/events</tt:XAddr><tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>` +
    `<tt:WSPullPointSupport>true</tt:WSPullPointSupport><tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>` +
    `<tt:Media><tt:XAddr>${x(f.base)}/media</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast>` +
    `<tt:RTP_TCP>false</tt:RTP_TCP><tt:RTP_RTSP_TCP>false</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>` +
    (f.ptz ? `<tt:PTZ><tt:XAddr>${x(f.base)}/ptz</tt:XAddr></tt:PTZ>` : '') +
    `</tds:Capabilities></tds:GetCapabilitiesResponse>`
  );
}

export function deviceInformation(f: CameraFacts): string {
  return (
    `<tds:GetDeviceInformationResponse><tds:Manufacturer>${x(f.manufacturer)}</tds:Manufacturer><tds:Model>${x(f.model)}</tds:Model>` +
    `<tds:FirmwareVersion>${x(f.firmware)}</tds:FirmwareVersion><tds:SerialNumber>${x(f.serial)}</tds:SerialNumber>` +
    `<tds:HardwareId>${x(f.hardwareId)}</tds:HardwareId></tds:GetDeviceInformationResponse>`
  );
}

function profile(f: CameraFacts): string {
  return (
    `<trt:Profiles token="${PROFILE_TOKEN}" fixed="true"><tt:Name>main</tt:Name>` +
    `<tt:VideoSourceConfiguration token="${SOURCE_CONFIG_TOKEN}"><tt:Name>source</tt:Name><tt:UseCount>1</tt:UseCount>` +
    `<tt:SourceToken>${SOURCE_TOKEN}</tt:SourceToken><tt:Bounds x="0" y="0" width="${f.width}" height="${f.height}"/></tt:VideoSourceConfiguration>` +
    `<tt:VideoEncoderConfiguration token="${ENCODER_TOKEN}"><tt:Name>encoder</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>` +
    `<tt:Resolution><tt:Width>${f.width}</tt:Width><tt:Height>${f.height}</tt:Height></tt:Resolution><tt:Quality>4</tt:Quality>` +
    `<tt:RateControl><tt:FrameRateLimit>${f.fps}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>400</tt:BitrateLimit></tt:RateControl>` +
    `<tt:H264><tt:GovLength>${f.fps * 2}</tt:GovLength><tt:H264Profile>Baseline</tt:H264Profile></tt:H264><tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration>` +
    (f.ptz
      ? `<tt:PTZConfiguration token="${PTZ_CONFIG_TOKEN}"><tt:Name>ptz</tt:Name><tt:UseCount>1</tt:UseCount><tt:NodeToken>ptz_node</tt:NodeToken>` +
        `<tt:DefaultContinuousPanTiltVelocitySpace>http://www.onvif.org/ver10/tptz/PanTiltSpaces/VelocityGenericSpace</tt:DefaultContinuousPanTiltVelocitySpace>` +
        `<tt:DefaultPTZTimeout>PT5S</tt:DefaultPTZTimeout></tt:PTZConfiguration>`
      : '') +
    `</trt:Profiles>`
  );
}

export function profiles(f: CameraFacts): string {
  return `<trt:GetProfilesResponse>${profile(f)}</trt:GetProfilesResponse>`;
}

export function videoSources(f: CameraFacts): string {
  return (
    `<trt:GetVideoSourcesResponse><trt:VideoSources token="${SOURCE_TOKEN}"><tt:Framerate>${f.fps}</tt:Framerate>` +
    `<tt:Resolution><tt:Width>${f.width}</tt:Width><tt:Height>${f.height}</tt:Height></tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>`
  );
}

export function mediaUri(action: 'GetStreamUri' | 'GetSnapshotUri', uri: string): string {
  return (
    `<trt:${action}Response><trt:MediaUri><tt:Uri>${x(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>` +
    `<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:${action}Response>`
  );
}

export interface Preset {
  token: string;
  name: string;
  pan: number;
  tilt: number;
  zoom: number;
}

export function presets(list: readonly Preset[]): string {
  return (
    `<tptz:GetPresetsResponse>` +
    list
      .map(
        (p) =>
          `<tptz:Preset token="${x(p.token)}"><tt:Name>${x(p.name)}</tt:Name><tt:PTZPosition>` +
          `<tt:PanTilt x="${p.pan}" y="${p.tilt}" space="http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace"/>` +
          `<tt:Zoom x="${p.zoom}" space="http://www.onvif.org/ver10/tptz/ZoomSpaces/PositionGenericSpace"/></tt:PTZPosition></tptz:Preset>`,
      )
      .join('') +
    `</tptz:GetPresetsResponse>`
  );
}

export function empty(prefix: string, action: string): string {
  return `<${prefix}:${action}Response/>`;
}

export function subscriptionCreated(address: string, cameraNow: number, terminationAt: number): string {
  return (
    `<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference><wsa:Address>${x(address)}</wsa:Address></tev:SubscriptionReference>` +
    `<wsnt:CurrentTime>${isoSeconds(cameraNow)}</wsnt:CurrentTime><wsnt:TerminationTime>${isoSeconds(terminationAt)}</wsnt:TerminationTime>` +
    `</tev:CreatePullPointSubscriptionResponse>`
  );
}

export function renewed(cameraNow: number, terminationAt: number): string {
  return `<wsnt:RenewResponse><wsnt:TerminationTime>${isoSeconds(terminationAt)}</wsnt:TerminationTime><wsnt:CurrentTime>${isoSeconds(cameraNow)}</wsnt:CurrentTime></wsnt:RenewResponse>`;
}

/** One ONVIF notification: a topic, a property operation, a source item and a data item. */
export interface Notification {
  topic: string;
  utc: number;
  operation: 'Initialized' | 'Changed';
  source: readonly [string, string];
  data: readonly [string, string];
}

export function pulled(cameraNow: number, terminationAt: number, messages: readonly Notification[]): string {
  return (
    `<tev:PullMessagesResponse><tev:CurrentTime>${isoSeconds(cameraNow)}</tev:CurrentTime><tev:TerminationTime>${isoSeconds(terminationAt)}</tev:TerminationTime>` +
    messages
      .map(
        (m) =>
          `<wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">${x(m.topic)}</wsnt:Topic>` +
          `<wsnt:Message><tt:Message UtcTime="${isoSeconds(m.utc)}" PropertyOperation="${m.operation}">` +
          `<tt:Source><tt:SimpleItem Name="${x(m.source[0])}" Value="${x(m.source[1])}"/></tt:Source>` +
          `<tt:Data><tt:SimpleItem Name="${x(m.data[0])}" Value="${x(m.data[1])}"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>`,
      )
      .join('') +
    `</tev:PullMessagesResponse>`
  );
}

export function probeMatch(o: { relatesTo: string; messageId: string; urn: string; xaddr: string; scopes: string }): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ` +
    `xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" ` +
    `xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><s:Header>` +
    `<a:MessageID>${x(o.messageId)}</a:MessageID><a:RelatesTo>${x(o.relatesTo)}</a:RelatesTo>` +
    `<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>` +
    `<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action></s:Header><s:Body>` +
    `<d:ProbeMatches><d:ProbeMatch><a:EndpointReference><a:Address>${x(o.urn)}</a:Address></a:EndpointReference>` +
    `<d:Types>dn:NetworkVideoTransmitter</d:Types><d:Scopes>${x(o.scopes)}</d:Scopes><d:XAddrs>${x(o.xaddr)}</d:XAddrs>` +
    `<d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>`
  );
}
