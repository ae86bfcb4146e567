/**
 * The md5 of the Administration API reference as this node publishes it: shared/spec/admin-api.md,
 * with connected_users_info as ejabberd 23.01 declares it (status, resource and statustext
 * after the seven older fields).
 */
export const PUBLISHED_REFERENCE_MD5 = '59a6944384d08a6a21460b7599c587ac';
