# Forest-wide: the global catalog holds every domain's sAMAccountNames. The names are filter variables, which
# the AD provider substitutes as values (never as filter text).
param([Parameter(Mandatory)][string]$PayloadB64)
. (Join-Path $PSScriptRoot '_Common.ps1')
Invoke-RunbookScript $PayloadB64 {
    param($p)
    $plain = [string]$p.name
    $dollar = $plain + '$'
    $gc = (Get-ADDomainController -Discover -Service GlobalCatalog -ForceDiscover).HostName | Select-Object -First 1
    $found = Get-ADObject -Server ($gc + ':3268') -SearchBase '' -Filter 'sAMAccountName -eq $plain -or sAMAccountName -eq $dollar' -Properties @('sAMAccountName', 'objectClass', 'ObjectGUID')
    @(foreach ($o in @($found)) {
            $class = switch ($o.ObjectClass) {
                'msDS-GroupManagedServiceAccount' { 'msDS-GroupManagedServiceAccount' }
                'computer' { 'computer' }
                'group' { 'group' }
                default { 'user' }
            }
            [ordered]@{
                objectGuid        = $o.ObjectGUID.ToString()
                objectClass       = $class
                samAccountName    = $o.sAMAccountName
                distinguishedName = $o.DistinguishedName
            }
        })
}
