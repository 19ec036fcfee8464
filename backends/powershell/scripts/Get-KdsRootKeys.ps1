# Root keys as the pinned DC sees them. Get-KdsRootKey has no -Server, so the container is read directly.
param([Parameter(Mandatory)][string]$PayloadB64)
. (Join-Path $PSScriptRoot '_Common.ps1')
Invoke-RunbookScript $PayloadB64 {
    param($p)
    $config = (Get-ADRootDSE -Server $p.dc).configurationNamingContext
    $base = 'CN=Master Root Keys,CN=Group Key Distribution Service,CN=Services,' + $config
    $keys = Get-ADObject -Server $p.dc -SearchBase $base -SearchScope OneLevel -LDAPFilter '(objectClass=msKds-ProvRootKey)' -Properties @('cn', 'msKds-UseStartTime')
    @(foreach ($k in @($keys)) {
            [ordered]@{
                keyId         = [string]$k.cn
                effectiveTime = [DateTime]::FromFileTimeUtc([long]$k.'msKds-UseStartTime').ToString('o')
            }
        })
}
